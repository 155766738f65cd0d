import Foundation

/// One import at a time into a database file, and a safe undo of a failed import's file.
///
/// Imports into the same new file used to race: each saw no file, each created the schema, and
/// the one that failed removed a file the others were writing ("readonly database", "database
/// disk image is malformed"). The lock is `flock` on the database file itself, which does not
/// interfere with SQLite's own `fcntl` locks; after taking it, the holder checks that the path
/// still names the file it locked (a failed import may have removed it meanwhile).
struct ImportLock {
    let fd: Int32
    /// This import created the file.
    let created: Bool
    /// The file was empty when the lock was taken: a failed import leaves it empty again.
    let wasBlank: Bool
    let path: String

    /// Blocks until no other import holds the file.
    static func acquire(_ path: String) throws -> ImportLock {
        while true {
            var created = true
            var fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd < 0 && errno == EEXIST {
                created = false
                fd = open(path, O_RDWR | O_CLOEXEC)
                // A store the user may only read: let SQLite say why it cannot be written.
                if fd < 0 && errno == EACCES { fd = open(path, O_RDONLY | O_CLOEXEC) }
            }
            guard fd >= 0 else {
                throw InputError("\(path): cannot open the trace database: \(String(cString: strerror(errno)).lowercased())")
            }
            guard flock(fd, LOCK_EX) == 0 else {
                let reason = String(cString: strerror(errno)).lowercased()
                close(fd)
                throw InputError("\(path): cannot lock the trace database: \(reason)")
            }
            var held = stat(), named = stat()
            if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_dev == named.st_dev, held.st_ino == named.st_ino {
                return ImportLock(fd: fd, created: created, wasBlank: held.st_size == 0, path: path)
            }
            close(fd)  // removed or replaced while we waited: lock the file the path names now
        }
    }

    /// After a failed import: a file this import created is removed, a file it found empty is
    /// emptied again (both while the lock is still held).
    func undo() {
        guard wasBlank else { return }
        if created { unlink(path) } else { _ = ftruncate(fd, 0) }
        for suffix in ["-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }

    func release() { close(fd) }
}
