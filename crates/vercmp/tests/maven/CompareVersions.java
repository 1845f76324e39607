// Reference side of tests/maven_reference.rs: reads pairs of hex-encoded versions, one pair per line, and
// prints how Maven's ComparableVersion orders each pair (<, = or >), or E if it throws.

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class CompareVersions {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split(" ", -1);
            try {
                int r = new ComparableVersion(decode(parts[0])).compareTo(new ComparableVersion(decode(parts[1])));
                out.append(r < 0 ? "<" : r == 0 ? "=" : ">");
            } catch (RuntimeException e) {
                out.append("E");
            }
            out.append('\n');
        }
        System.out.print(out);
    }

    private static String decode(String hex) {
        byte[] bytes = new byte[hex.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
