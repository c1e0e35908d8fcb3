package ai.lethe.spark;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.StandardOpenOption;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;

/**
 * A read-only NIO view of a Hadoop {@link org.apache.hadoop.fs.FileSystem}, so that Lethe's own IDX, .npy and
 * safetensors readers (which take {@link Path}s and open {@link FileChannel}s) read HDFS, S3 or any other
 * Hadoop file system unchanged: positioned reads become Hadoop's {@code PositionedReadable} reads. Only what
 * reading needs is implemented (attributes, input streams, read channels, resolving names).
 */
final class HadoopNio {

    private HadoopNio() {
    }

    /** The NIO path of a Hadoop URI (hdfs://nn/dir, s3a://bucket/dir, file:///dir). */
    static Path path(String uri, Configuration conf) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
        org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(conf);
        return new HadoopPath(new HadoopFileSystem(fs), fs.makeQualified(p).toString(), false);
    }

    /** True when a location names a file system scheme ("hdfs://...", "s3a://...", "file:/..."). */
    static boolean isUri(String location) {
        int colon = location.indexOf(':');
        return colon > 1 && location.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")
                && location.startsWith("/", colon + 1);
    }

    static final class HadoopFileSystem extends FileSystem {
        final org.apache.hadoop.fs.FileSystem hadoop;
        private final Provider provider = new Provider();

        HadoopFileSystem(org.apache.hadoop.fs.FileSystem hadoop) {
            this.hadoop = hadoop;
        }

        @Override
        public FileSystemProvider provider() {
            return provider;
        }

        @Override
        public void close() {
            // the Hadoop file system is shared (Hadoop caches it per scheme and user)
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public boolean isReadOnly() {
            return true;
        }

        @Override
        public String getSeparator() {
            return "/";
        }

        @Override
        public Iterable<Path> getRootDirectories() {
            return List.of(new HadoopPath(this, hadoop.makeQualified(new org.apache.hadoop.fs.Path("/")).toString(), false));
        }

        @Override
        public Iterable<FileStore> getFileStores() {
            return List.of();
        }

        @Override
        public Set<String> supportedFileAttributeViews() {
            return Set.of("basic");
        }

        @Override
        public Path getPath(String first, String... more) {
            String s = first;
            for (String m : more) {
                s = s + "/" + m;
            }
            return new HadoopPath(this, s, !isUri(s) && !s.startsWith("/"));
        }

        @Override
        public PathMatcher getPathMatcher(String syntaxAndPattern) {
            throw new UnsupportedOperationException();
        }

        @Override
        public UserPrincipalLookupService getUserPrincipalLookupService() {
            throw new UnsupportedOperationException();
        }

        @Override
        public WatchService newWatchService() {
            throw new UnsupportedOperationException();
        }

        final class Provider extends FileSystemProvider {
            @Override
            public String getScheme() {
                return hadoop.getScheme();
            }

            @Override
            public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
                throw new UnsupportedOperationException();
            }

            @Override
            public FileSystem getFileSystem(URI uri) {
                return HadoopFileSystem.this;
            }

            @Override
            public Path getPath(URI uri) {
                return new HadoopPath(HadoopFileSystem.this, uri.toString(), false);
            }

            @Override
            public InputStream newInputStream(Path path, OpenOption... options) throws IOException {
                return open(path);
            }

            @Override
            public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
                    throws IOException {
                return newFileChannel(path, options, attrs);
            }

            @Override
            public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
                    throws IOException {
                for (OpenOption o : options) {
                    if (o != StandardOpenOption.READ) {
                        throw new ReadOnlyFileSystemException();
                    }
                }
                long size = status(path).getLen();
                return new ReadChannel(open(path), size);
            }

            private FSDataInputStream open(Path path) throws IOException {
                try {
                    return hadoop.open(hadoopPath(path));
                } catch (FileNotFoundException e) {
                    throw new NoSuchFileException(path.toString());
                }
            }

            @Override
            public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void createDirectory(Path dir, FileAttribute<?>... attrs) {
                throw new ReadOnlyFileSystemException();
            }

            @Override
            public void delete(Path path) {
                throw new ReadOnlyFileSystemException();
            }

            @Override
            public void copy(Path source, Path target, CopyOption... options) {
                throw new ReadOnlyFileSystemException();
            }

            @Override
            public void move(Path source, Path target, CopyOption... options) {
                throw new ReadOnlyFileSystemException();
            }

            @Override
            public boolean isSameFile(Path path, Path path2) {
                return path.equals(path2);
            }

            @Override
            public boolean isHidden(Path path) {
                return false;
            }

            @Override
            public FileStore getFileStore(Path path) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void checkAccess(Path path, AccessMode... modes) throws IOException {
                for (AccessMode m : modes) {
                    if (m != AccessMode.READ) {
                        throw new ReadOnlyFileSystemException();
                    }
                }
                status(path);
            }

            @Override
            public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
                return null;
            }

            @Override
            @SuppressWarnings("unchecked")
            public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options)
                    throws IOException {
                if (type != BasicFileAttributes.class) {
                    throw new UnsupportedOperationException("only basic attributes");
                }
                return (A) new Attributes(status(path));
            }

            @Override
            public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void setAttribute(Path path, String attribute, Object value, LinkOption... options) {
                throw new ReadOnlyFileSystemException();
            }

            private FileStatus status(Path path) throws IOException {
                try {
                    return hadoop.getFileStatus(hadoopPath(path));
                } catch (FileNotFoundException e) {
                    throw new NoSuchFileException(path.toString());
                }
            }
        }

        private org.apache.hadoop.fs.Path hadoopPath(Path path) {
            if (!(path instanceof HadoopPath h) || h.relative) {
                throw new IllegalArgumentException("not an absolute path of " + hadoop.getUri() + ": " + path);
            }
            return new org.apache.hadoop.fs.Path(h.location);
        }
    }

    /** A file's attributes as Hadoop reports them. */
    private record Attributes(FileStatus status) implements BasicFileAttributes {
        @Override
        public FileTime lastModifiedTime() {
            return FileTime.fromMillis(status.getModificationTime());
        }

        @Override
        public FileTime lastAccessTime() {
            return FileTime.fromMillis(status.getAccessTime());
        }

        @Override
        public FileTime creationTime() {
            return lastModifiedTime();
        }

        @Override
        public boolean isRegularFile() {
            return status.isFile();
        }

        @Override
        public boolean isDirectory() {
            return status.isDirectory();
        }

        @Override
        public boolean isSymbolicLink() {
            return false;
        }

        @Override
        public boolean isOther() {
            return false;
        }

        @Override
        public long size() {
            return status.getLen();
        }

        @Override
        public Object fileKey() {
            return null;
        }
    }

    /** A path of a {@link HadoopFileSystem}: an absolute Hadoop URI, or a relative name to resolve against one. */
    static final class HadoopPath implements Path {
        private final HadoopFileSystem fs;
        final String location;
        final boolean relative;

        HadoopPath(HadoopFileSystem fs, String location, boolean relative) {
            this.fs = fs;
            this.location = location;
            this.relative = relative;
        }

        @Override
        public FileSystem getFileSystem() {
            return fs;
        }

        @Override
        public boolean isAbsolute() {
            return !relative;
        }

        @Override
        public Path getRoot() {
            return relative ? null : fs.getRootDirectories().iterator().next();
        }

        @Override
        public Path getFileName() {
            String name = relative ? location : new org.apache.hadoop.fs.Path(location).getName();
            return new HadoopPath(fs, name, true);
        }

        @Override
        public Path getParent() {
            if (relative) {
                return null;
            }
            org.apache.hadoop.fs.Path parent = new org.apache.hadoop.fs.Path(location).getParent();
            return parent == null ? null : new HadoopPath(fs, parent.toString(), false);
        }

        @Override
        public int getNameCount() {
            return new org.apache.hadoop.fs.Path(location).depth();
        }

        @Override
        public Path getName(int index) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Path subpath(int beginIndex, int endIndex) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean startsWith(Path other) {
            return other instanceof HadoopPath h && location.startsWith(h.location);
        }

        @Override
        public boolean endsWith(Path other) {
            return other instanceof HadoopPath h && location.endsWith(h.location);
        }

        @Override
        public Path normalize() {
            return this;
        }

        @Override
        public Path resolve(Path other) {
            if (other.isAbsolute()) {
                return other;
            }
            return resolve(other.toString());
        }

        @Override
        public Path resolve(String other) {
            if (relative) {
                return new HadoopPath(fs, location + "/" + other, true);
            }
            return new HadoopPath(fs, new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(location), other).toString(), false);
        }

        @Override
        public Path relativize(Path other) {
            throw new UnsupportedOperationException();
        }

        @Override
        public URI toUri() {
            return new org.apache.hadoop.fs.Path(location).toUri();
        }

        @Override
        public Path toAbsolutePath() {
            if (relative) {
                throw new UnsupportedOperationException("relative path " + location + " of " + fs.hadoop.getUri());
            }
            return this;
        }

        @Override
        public Path toRealPath(LinkOption... options) throws IOException {
            fs.provider().checkAccess(toAbsolutePath());
            return this;
        }

        @Override
        public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int compareTo(Path other) {
            return location.compareTo(other.toString());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof HadoopPath h && h.fs == fs && h.location.equals(location) && h.relative == relative;
        }

        @Override
        public int hashCode() {
            return location.hashCode();
        }

        @Override
        public String toString() {
            return location;
        }
    }

    /** A read-only file channel over a Hadoop input stream: positioned reads, no writes, no mapping. */
    static final class ReadChannel extends FileChannel {
        private final FSDataInputStream in;
        private final long size;
        private long position;

        ReadChannel(FSDataInputStream in, long size) {
            this.in = in;
            this.size = size;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = read(dst, position);
            if (n > 0) {
                position += n;
            }
            return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                int n = read(dsts[i]);
                if (n < 0) {
                    return total == 0 ? -1 : total;
                }
                total += n;
                if (dsts[i].hasRemaining()) {
                    break;
                }
            }
            return total;
        }

        @Override
        public synchronized int read(ByteBuffer dst, long at) throws IOException {
            if (at >= size) {
                return -1;
            }
            int want = (int) Math.min(dst.remaining(), size - at);
            if (want == 0) {
                return 0;
            }
            if (dst.hasArray()) {
                in.readFully(at, dst.array(), dst.arrayOffset() + dst.position(), want);
                dst.position(dst.position() + want);
            } else {
                byte[] tmp = new byte[want];
                in.readFully(at, tmp, 0, want);
                dst.put(tmp);
            }
            return want;
        }

        @Override
        public int write(ByteBuffer src) {
            throw new NonWritableChannelException();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw new NonWritableChannelException();
        }

        @Override
        public int write(ByteBuffer src, long at) {
            throw new NonWritableChannelException();
        }

        @Override
        public long position() {
            return position;
        }

        @Override
        public FileChannel position(long newPosition) {
            position = newPosition;
            return this;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public FileChannel truncate(long newSize) {
            throw new NonWritableChannelException();
        }

        @Override
        public void force(boolean metaData) {
            // nothing written
        }

        @Override
        public long transferTo(long at, long count, WritableByteChannel target) throws IOException {
            ByteBuffer b = ByteBuffer.allocate((int) Math.min(count, 1 << 16));
            int n = read(b, at);
            if (n <= 0) {
                return 0;
            }
            b.flip();
            return target.write(b);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long at, long count) {
            throw new NonWritableChannelException();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long at, long length) {
            throw new UnsupportedOperationException("a Hadoop file cannot be memory-mapped");
        }

        @Override
        public FileLock lock(long at, long length, boolean shared) {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock tryLock(long at, long length, boolean shared) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void implCloseChannel() throws IOException {
            in.close();
        }
    }
}
