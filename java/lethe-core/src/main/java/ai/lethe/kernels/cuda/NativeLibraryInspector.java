package ai.lethe.kernels.cuda;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads what a built native library holds, without binutils or cuobjdump (not every CUDA install ships
 * the latter): the device code of its {@code .nv_fatbin} section (cubins, one per real architecture, and
 * PTX) and the symbols it exports.
 */
public final class NativeLibraryInspector {

    /** One embedded image: {@code elf} (machine code for sm_XY) or {@code ptx} (for compute_XY). */
    public record Image(String kind, int sm) {
        @Override
        public String toString() {
            return kind.equals("elf") ? "sm_" + sm : "compute_" + sm;
        }
    }

    private static final int FATBIN_MAGIC = 0xBA55ED50;

    private static final int SHT_DYNSYM = 11;

    private NativeLibraryInspector() {
    }

    private static ByteBuffer elf(Path library) throws IOException {
        ByteBuffer elf = ByteBuffer.wrap(Files.readAllBytes(library)).order(ByteOrder.LITTLE_ENDIAN);
        if (elf.getInt(0) != 0x464C457F || elf.get(4) != 2) {
            throw new IOException(library + " is not a 64-bit ELF file");
        }
        return elf;
    }

    /** Offsets of the ELF section headers. */
    private static int[] sectionHeaders(ByteBuffer elf) {
        long shoff = elf.getLong(0x28);
        int shentsize = Short.toUnsignedInt(elf.getShort(0x3A));
        int shnum = Short.toUnsignedInt(elf.getShort(0x3C));
        int[] out = new int[shnum];
        for (int i = 0; i < shnum; i++) {
            out[i] = (int) (shoff + (long) i * shentsize);
        }
        return out;
    }

    /** Names of the symbols the library defines and exports (global, weak or unique binding, visible). */
    public static List<String> exportedSymbols(Path library) throws IOException {
        ByteBuffer elf = elf(library);
        int[] headers = sectionHeaders(elf);
        List<String> out = new ArrayList<>();
        for (int sh : headers) {
            if (elf.getInt(sh + 4) != SHT_DYNSYM) {
                continue;
            }
            long offset = elf.getLong(sh + 0x18);
            long size = elf.getLong(sh + 0x20);
            int link = elf.getInt(sh + 0x28);
            long strings = elf.getLong(headers[link] + 0x18);
            for (long at = offset; at + 24 <= offset + size; at += 24) {
                int name = elf.getInt((int) at);
                int binding = (elf.get((int) at + 4) & 0xFF) >>> 4;
                int visibility = elf.get((int) at + 5) & 0x3;
                int section = Short.toUnsignedInt(elf.getShort((int) at + 6));
                boolean exported = (binding == 1 || binding == 2 || binding == 10) && (visibility == 0 || visibility == 3);
                if (section != 0 && exported && name != 0) {
                    out.add(cString(elf, (int) (strings + Integer.toUnsignedLong(name))));
                }
            }
        }
        return out;
    }

    /** The device code images of the library's fatbin section. */
    public static List<Image> images(Path library) throws IOException {
        ByteBuffer elf = elf(library);
        int[] headers = sectionHeaders(elf);
        long strOffset = elf.getLong(headers[Short.toUnsignedInt(elf.getShort(0x3E))] + 0x18);
        List<Image> out = new ArrayList<>();
        for (int sh : headers) {
            String name = cString(elf, (int) (strOffset + Integer.toUnsignedLong(elf.getInt(sh))));
            if (name.equals(".nv_fatbin")) {
                long offset = elf.getLong(sh + 0x18);
                long size = elf.getLong(sh + 0x20);
                parseFatbins(elf, (int) offset, (int) (offset + size), out);
            }
        }
        return out;
    }

    /** The section holds consecutive fatbins (one per translation unit), each a header and entries. */
    private static void parseFatbins(ByteBuffer b, int pos, int end, List<Image> out) throws IOException {
        while (pos + 16 <= end) {
            if (b.getInt(pos) != FATBIN_MAGIC) {
                pos += 8; // padding between fatbins
                continue;
            }
            int headerSize = Short.toUnsignedInt(b.getShort(pos + 6));
            long fatSize = b.getLong(pos + 8);
            int entry = pos + headerSize;
            int stop = (int) (entry + fatSize);
            while (entry < stop) {
                int kind = Short.toUnsignedInt(b.getShort(entry));
                int entryHeader = b.getInt(entry + 4);
                long payload = b.getLong(entry + 8);
                int sm = b.getInt(entry + 28);
                if (entryHeader <= 0 || payload < 0) {
                    throw new IOException("corrupt fatbin entry at offset " + entry);
                }
                out.add(new Image(kind == 1 ? "ptx" : kind == 2 ? "elf" : "kind" + kind, sm));
                entry += entryHeader + (int) payload;
            }
            pos = (stop + 7) & ~7;
        }
    }

    private static String cString(ByteBuffer b, int at) {
        int end = at;
        while (b.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - at];
        b.get(at, bytes);
        return new String(bytes, StandardCharsets.US_ASCII);
    }
}
