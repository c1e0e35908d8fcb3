package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Server-side paths stay under the allowed root, however they are spelt and wherever their links point. */
class PathGuardTest {

    @TempDir
    Path tmp;

    private Path root;
    private Path outside;
    private PathGuard guard;

    @BeforeEach
    void layout() throws Exception {
        root = Files.createDirectories(tmp.resolve("root"));
        outside = Files.createDirectories(tmp.resolve("outside"));
        Files.createDirectories(root.resolve("data/idx"));
        Files.writeString(root.resolve("data/model.pt"), "m");
        Files.writeString(outside.resolve("secret.pt"), "s");
        Files.createSymbolicLink(root.resolve("data/link-out.pt"), outside.resolve("secret.pt"));
        Files.createSymbolicLink(root.resolve("dir-out"), outside);
        Files.createSymbolicLink(root.resolve("data/link-in.pt"), root.resolve("data/model.pt"));
        guard = new PathGuard(root);
    }

    @Test
    void pathsUnderTheRootResolveToTheirRealLocation() throws Exception {
        Path real = root.resolve("data/model.pt").toRealPath();
        assertEquals(real, guard.file("data/model.pt"));
        assertEquals(real, guard.file(root.resolve("data/model.pt").toString()));
        assertEquals(real, guard.file("data/../data/./model.pt"));
        assertEquals(real, guard.file("data/link-in.pt"), "a link that stays inside is followed");
        assertEquals("idx:" + root.resolve("data/idx").toRealPath(), guard.dataSpec("idx:data/idx"));
        assertEquals("fashion-mnist", guard.dataSpec(" Fashion-MNIST "));
    }

    @Test
    void escapesAreForbidden() {
        assertStatus(403, "outside the allowed root", () -> guard.file("../outside/secret.pt"));
        assertStatus(403, "outside the allowed root", () -> guard.file("data/../../outside/secret.pt"));
        assertStatus(403, "outside the allowed root", () -> guard.file(outside.resolve("secret.pt").toString()));
        assertStatus(403, "outside the allowed root", () -> guard.file("/etc/passwd"));
        assertStatus(403, "symbolic link", () -> guard.file("data/link-out.pt"));
        assertStatus(403, "symbolic link", () -> guard.file("dir-out/secret.pt"));
        assertStatus(403, "symbolic link", () -> guard.dataSpec("npy:dir-out"));
        assertStatus(403, "outside the allowed root", () -> guard.dataSpec("idx:/tmp"));
    }

    @Test
    void otherBadPathsAreBadRequests() throws Exception {
        assertStatus(400, "no such file", () -> guard.file("data/missing.pt"));
        assertStatus(400, "not a regular file", () -> guard.file("data"));
        assertStatus(400, "not a directory", () -> guard.directory("data/model.pt"));
        assertStatus(400, "the path is empty", () -> guard.file(" "));
        assertStatus(400, "not a valid path", () -> guard.file("bad\u0000name"));
        // a line break in the request stays out of the one-line message (a fuzzer found it in POST /models)
        assertStatus(400, "no such file or directory under the allowed root: 'models/c?n.pt'", () -> guard.file("models/c\nn.pt"));
        assertStatus(400, "unknown data 'csv:data'", () -> guard.dataSpec("csv:data"));
        assertStatus(400, "'data' is required", () -> guard.dataSpec(null));
        PathGuard none = new PathGuard(null);
        assertStatus(403, "started without --allowed-root", () -> none.file("data/model.pt"));
        assertEquals("fashion-mnist", none.dataSpec("fashion-mnist"), "the installed dataset needs no allowed root");
    }

    private static void assertStatus(int status, String fragment, Executable call) {
        ApiException e = assertThrows(ApiException.class, call);
        assertEquals(status, e.status(), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
    }
}
