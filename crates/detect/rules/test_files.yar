// Anti-malware test files. They are harmless by design and exist so that a pipeline can
// check that detection and reporting work end to end.

rule EICAR_Test_File
{
    meta:
        category = "Virus"
        severity = "medium"
        description = "EICAR anti-malware test file (harmless; used to check that malware detection works)"
    strings:
        // The 68-byte string published by EICAR; the standard lets it be followed by
        // whitespace up to a total of 128 bytes.
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    condition:
        filesize <= 128 and $eicar at 0
}
