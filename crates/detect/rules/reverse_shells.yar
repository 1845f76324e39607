// Reverse shells: scripts that connect out to an attacker and attach a shell to the socket.

rule ReverseShell_Bash_DevTcp
{
    meta:
        category = "Backdoor"
        severity = "high"
        description = "Bash reverse shell: an interactive shell redirected to a /dev/tcp connection"
    strings:
        $a = /(bash|sh)\s+-i\s+[0-9]?>\s*&\s*\/dev\/(tcp|udp)\/[A-Za-z0-9.\-]+\/[0-9]{1,5}/
        // `exec 5<>/dev/tcp/host/port` alone is a common port probe (health checks); it is
        // a shell only when a shell's input and output are then bound to that descriptor.
        $fd = /exec\s+[0-9]+<>\s*\/dev\/tcp\/[A-Za-z0-9.\-]+\/[0-9]{1,5}/
        $bind = /(bash|sh)\s+(-i\s+)?<&\s*[0-9]+\s+>&\s*[0-9]+/
    condition:
        filesize < 4MB and ($a or ($fd and $bind))
}

rule ReverseShell_Netcat_Exec
{
    meta:
        category = "Backdoor"
        severity = "high"
        description = "Netcat reverse or bind shell: nc/ncat executing a shell for a network peer"
    strings:
        $e = /\b(nc|ncat|netcat)(\.traditional)?\s+(-[a-z]+\s+)*-(e|c)\s*\/bin\/(ba)?sh\b/
        $e2 = /\b(nc|ncat|netcat)\s+[A-Za-z0-9.\-]+\s+[0-9]{1,5}\s+-e\s+\/bin\/(ba)?sh\b/
        $fifo = /mkfifo\s+\/tmp\/[A-Za-z0-9._]+\s*;\s*(cat|tail -f)\s+\/tmp\/[A-Za-z0-9._]+\s*\|\s*\/bin\/(ba)?sh\s+-i[^|]{0,40}\|\s*(nc|ncat)\s/
    condition:
        filesize < 4MB and any of them
}

rule ReverseShell_Python_Socket
{
    meta:
        category = "Backdoor"
        severity = "high"
        description = "Python reverse shell: socket connected out, its descriptor duplicated onto stdin/stdout and a shell spawned"
    strings:
        $connect = /\.connect\s*\(\s*\(/
        $dup = /dup2\s*\(\s*[A-Za-z_][A-Za-z0-9_]*\.fileno\s*\(\s*\)\s*,\s*[012]\s*\)/
        $pty = /pty\.spawn\s*\(\s*["']\/bin\/(ba)?sh["']/
        $sub = /subprocess\.(call|Popen|run)\s*\(\s*\[\s*["']\/bin\/(ba)?sh["']/
    condition:
        filesize < 512KB and $connect and $dup and ($pty or $sub)
}

rule ReverseShell_Perl_Socket
{
    meta:
        category = "Backdoor"
        severity = "high"
        description = "Perl reverse shell: socket handle duplicated onto STDIN/STDOUT, then a shell executed"
    strings:
        $sock = /socket\s*\(\s*[A-Z]+\s*,\s*PF_INET/
        $connect = /connect\s*\(\s*[A-Z]+\s*,\s*sockaddr_in\s*\(/
        $dup = /open\s*\(\s*STDIN\s*,\s*["']>&/
        $exec = /exec\s*[\( ]\s*["']\/bin\/(ba)?sh( -i)?["']/
    condition:
        filesize < 512KB and $sock and $connect and $dup and $exec
}
