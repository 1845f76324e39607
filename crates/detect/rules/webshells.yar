// Web shells: server-side scripts that run what an HTTP request tells them to.

rule Webshell_PHP_Eval_Request
{
    meta:
        category = "Webshell"
        severity = "high"
        description = "PHP web shell: evaluates or executes a value taken straight from the HTTP request"
    strings:
        $php = "<?" ascii
        $exec = /(eval|assert|system|shell_exec|passthru|exec|popen|proc_open|pcntl_exec)\s*\(\s*(@\s*)?(stripslashes\s*\(\s*|base64_decode\s*\(\s*|trim\s*\(\s*)?\$_(GET|POST|REQUEST|COOKIE|SERVER\s*\[\s*['"]HTTP_)/ nocase
        $backtick = /`\s*\$_(GET|POST|REQUEST)\s*\[/
    condition:
        filesize < 4MB and $php and ($exec or $backtick)
}

rule Webshell_PHP_Encoded_Eval
{
    meta:
        category = "Webshell"
        severity = "high"
        description = "PHP web shell: evaluates code hidden behind a chain of decoding functions"
    strings:
        $php = "<?" ascii
        $chain = /eval\s*\(\s*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev)\s*\(\s*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev)\s*\(/ nocase
        $create = /create_function\s*\(\s*['"]{2}\s*,\s*(base64_decode|gzinflate)\s*\(/ nocase
    condition:
        filesize < 4MB and $php and ($chain or $create)
}

rule Webshell_JSP_Runtime_Exec
{
    meta:
        category = "Webshell"
        severity = "high"
        description = "JSP web shell: runs a command taken from a request parameter"
    strings:
        $exec = /Runtime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*exec\s*\(\s*request\s*\.\s*getParameter\s*\(/
        $pb = /new\s+ProcessBuilder\s*\([^;]{0,80}request\s*\.\s*getParameter\s*\(/
    condition:
        filesize < 4MB and any of them
}

rule Webshell_ASPX_Eval_Request
{
    meta:
        category = "Webshell"
        severity = "high"
        description = "ASP.NET web shell: evaluates or starts a process from request data"
    strings:
        $eval = /eval\s*\(\s*Request(\.(Item|Form|QueryString))?\s*\[/ nocase
        $start = /Process\.Start\s*\([^;]{0,120}Request(\.(Item|Form|QueryString|Params))?\s*\[/ nocase
        $page = "<%@" ascii
    condition:
        filesize < 4MB and $page and ($eval or $start)
}
