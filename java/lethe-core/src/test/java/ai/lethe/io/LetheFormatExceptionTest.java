package ai.lethe.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A format error quotes what a file holds, and a file can hold line breaks and escapes: the message stays one line. */
class LetheFormatExceptionTest {

    @Test
    void messageWithLineBreaksAndEscapesIsOneLine() {
        String m = new LetheFormatException("f: format=lethe-import\nce/1\r\u001b[31m").getMessage();
        assertEquals("f: format=lethe-import?ce/1??[31m", m);
    }

    @Test
    void longMessageIsCut() {
        String m = new LetheFormatException("x".repeat(5000)).getMessage();
        assertEquals(LetheFormatException.MAX_MESSAGE_CHARS + 1, m.length());
        assertTrue(m.endsWith("…"));
    }

    @Test
    void printableQuotesFileText() {
        assertEquals("a?b", LetheFormatException.printable("  a\tb \n"));
        assertEquals("(none)", LetheFormatException.printable(null));
        assertEquals(201, LetheFormatException.printable("y".repeat(300)).length());
        assertFalse(new LetheFormatException("ok", new RuntimeException("c\nd")).getMessage().contains("\n"));
    }
}
