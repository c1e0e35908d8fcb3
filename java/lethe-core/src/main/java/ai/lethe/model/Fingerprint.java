package ai.lethe.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** SHA-256 over parameter names, shapes and fp32 values (little-endian), in order. */
public final class Fingerprint {

    private Fingerprint() {
    }

    public static String of(List<ParameterInfo> params, float[][] values) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < params.size(); i++) {
                ParameterInfo p = params.get(i);
                md.update(p.name().getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                for (long d : p.shape()) {
                    buf.putLong(d);
                }
                flush(md, buf);
                for (float v : values[i]) {
                    if (!buf.hasRemaining()) {
                        flush(md, buf);
                    }
                    buf.putFloat(v);
                }
                flush(md, buf);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private static void flush(MessageDigest md, ByteBuffer buf) {
        md.update(buf.array(), 0, buf.position());
        buf.clear();
    }
}
