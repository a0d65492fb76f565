// Package directory is a [sessions.Storage] that keeps one file per session
// under a root folder: no server to run, entries that survive restarts, and
// a root that several processes on one machine (or on a shared file system
// with POSIX rename semantics) can serve together.
//
//	store, err := directory.New("/var/lib/myapp/sessions")
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	m, err := sessions.New(sessions.Cookie[Login]("LOGIN", sessions.WithStorage(store)))
//
// # Layout
//
// An entry lives at root/<folder>/<name>. The folder is one of 256 named by
// two lowercase hex digits, a fixed hash of the id, so the tree is never
// deeper than that and ids spread evenly. The name is the id in unpadded
// lowercase base32 (alphabet 0-9a-v), an injective encoding that keeps ids
// differing only in case ("Ab", "ab") apart on case-insensitive file
// systems (macOS, Windows) and can hold no separator or dot. A file starts
// with a 24-byte header (magic, version, expiry in Unix nanoseconds and its
// checksum), then, for an entry filed under an index key (version 2 of the
// header), the key's bytes, then the content as written. Temporary files
// are named ".tmp-*" in the entry's folder. The index lives apart, under
// root/index (see below).
//
// Ids are checked with [sessions.CheckID] before any path is built, and the
// built path is checked to be a child of the root. All file operations use
// plain paths, not os.Root: os.Root cannot rename before Go 1.25 (this
// module supports 1.24), the names cannot escape the root by construction,
// and the symbolic links os.Root guards against can only be planted by
// someone who can already write the root, which must belong to the
// service's user alone.
//
// # Consistency
//
// A Write streams into a temporary file in the entry's folder and renames
// it over the entry. Rename is atomic, so a Read in any process sees the
// whole old or the whole new content, concurrent Writes end with one of
// the written values, and a failing write function leaves the old content
// in place. No lock is held in memory, which is why Stores in several
// processes can share a root; the renames and removals of entries are also
// serialised per folder by lock files, for the conditional writes below.
// [WithSync] decides whether changes are also
// flushed to stable storage before the calls return.
//
// Reads never create anything: a request carrying a random id costs one
// failed open, not a folder. Touch rewrites the expiry in place, guarded by
// a checksum, so it never loses a concurrent Write. Invalidate removes the
// file and keeps the (at most 256) folders, which is what makes it safe
// against a concurrent Write into the same folder.
//
// # Conditional writes and the folder locks
//
// Create (only if absent or expired) and Replace (only if live), the
// sessions.ConditionalWriter that keeps a logout from being undone by a
// request in flight, are atomic across every process that shares the root.
// Each fan-out folder has a lock file, ".lock", made on first use. Every
// change of which file is an entry takes it: the rename of Write, Create
// and Replace, the removal of Invalidate, and the sweeper's removal of an
// expired entry. Create and Replace write their temporary file first
// (without the lock), then, holding the lock, read the entry's header and
// rename only if the condition holds. So:
//
//   - of concurrent Creates of one id, in any processes, the first to take
//     the lock renames and every later one finds a live entry;
//   - a Create racing a rename (a Write, another Create, a Replace) checks
//     either before it, and then the rename lands after the Create's, or
//     after it, and then finds the entry live;
//   - a Replace racing an Invalidate either renames before the removal,
//     which then removes what it wrote, or checks after the removal and
//     finds the entry gone: the entry is never left live;
//   - the sweeper removes an entry only if, under the lock, the file it
//     found expired is still the entry, so it never removes content that a
//     Create or Write has just renamed over an expired entry.
//
// Reads and Touch take no lock: renames are atomic, and Touch rewrites the
// header of the file it opened, so one that races a rename or a removal
// changes a file that is no longer the entry, as if it had happened first.
//
// The lock is an exclusive flock(2) on the lock file, held through a
// descriptor opened for the one call, on Linux, macOS and the BSDs. It
// excludes goroutines of one process as well as other processes, is
// released when the descriptor is closed or the process dies, and needs a
// local file system or one whose flock is shared between clients (NFS
// turns flock into fcntl locks, which works with a lock manager). On other
// systems (Windows among them) the lock is a mutex per folder path shared
// by the Stores of one process: the conditional writes are then atomic
// among them, but not against other processes sharing the root, which
// there can resurrect an ended session as a Store without
// ConditionalWriter would.
//
// # A full file system
//
// When the file system has no free block or inode, Write, Create and
// Replace fail with an error wrapping the file system's (errors.Is(err,
// syscall.ENOSPC)): the temporary file is removed and the entry keeps its
// old content, byte for byte, and a new id is not created. Read,
// ReadWithExpiry, List and Invalidate keep working, as removing needs no
// space. Touch rewrites 12 bytes of a block the entry already has, which
// needs no new block or inode on tmpfs, ext4 or xfs, so it keeps working
// there; a copy-on-write file system (btrfs, ZFS) may need a new block for
// it and then fails it like a Write, leaving the old expiry. Writes work
// again as soon as space is freed: nothing is left in a failed state.
//
// # Index
//
// Store implements sessions.Indexer, which lists and ends a user's
// sessions. An entry filed under an index key records the key in its own
// file, so the key and the content are renamed into place together and
// every reader sees the key of the version it reads. Beside it, the index
// holds a marker per filed entry, an empty file named like the entry, at
// root/index/<fan-out>/<key name>/<name>, where the fan-out folder and the
// key's name are made from the key as an entry's are from its id. The
// "index" folder is not a fan-out folder name, so List and the sweep of
// entries never enter it, and entries and index keys cannot collide.
//
// CreateIndexed and ReplaceIndexed make the marker while holding the lock
// of the entry's folder, just before the rename that puts the entry into
// place (flushed first with WithSync). ReadIndex lists the one key folder
// and, for each marker, opens the entry it names and yields it only if it
// is live and records that key: a session that ended, was renewed away or
// moved to another key is never listed, whatever markers remain, and the
// cost is that of the key's own markers, never a walk of the root. A marker
// whose entry is absent or records another key (or none: Write, Create and
// Replace file under none) is stale; ReadIndex removes it, and the key's
// folder once it is empty, after reading the entry again under the lock of
// its folder. The sweeper does the same for every key, after removing
// expired entries, so the markers of sessions whose key is never read again
// go too.
//
// Why ReadIndex never misses a live entry: every entry that records a key
// has a marker under it. Markers are made and removed only under the lock
// of the entry's folder, which every rename onto the entry also takes; a
// filed write makes its marker before its rename, and a marker is removed
// only after reading, under the lock, that the entry does not record its
// key; Touch never changes a key. A process crash between the marker and
// the rename leaves a stale marker, never an entry without one. An
// operating system crash without WithSync could in principle keep the
// rename and lose the marker on a file system that reorders them (ext4 and
// XFS journal both in order); the sweeper, whose first sweep New starts at
// once (unless WithSweepInterval disables it), makes the missing marker of
// every live entry that records a key.
//
// # Expiry
//
// Expired entries read as absent at once and stay on disk until a sweep
// removes them: DeleteExpired, or the background sweeper that New starts
// (see [WithSweepInterval]). The sweeper also removes temporary files left by
// writers that crashed, and stale markers of the index.
//
// # Errors
//
// Errors wrap the sentinels of package sessions (ErrNotFound, ErrInvalidID,
// ErrClosed) and the os errors underneath, so errors.Is(err,
// fs.ErrPermission) works. An os error's path has the entry's name
// replaced by "<id>", and an index key's by "<index>": ids are secrets, and
// index keys stand for users, so neither must reach logs.
package directory
