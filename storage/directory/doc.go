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
// checksum) followed by the content as written. Temporary files are named
// ".tmp-*" in the entry's folder.
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
// processes can share a root. [WithSync] decides whether changes are also
// flushed to stable storage before the calls return.
//
// Reads never create anything: a request carrying a random id costs one
// failed open, not a folder. Touch rewrites the expiry in place, guarded by
// a checksum, so it never loses a concurrent Write. Invalidate removes the
// file and keeps the (at most 256) folders, which is what makes it safe
// against a concurrent Write into the same folder.
//
// # Expiry
//
// Expired entries read as absent at once and stay on disk until a sweep
// removes them: DeleteExpired, or the background sweeper that New starts
// (see [WithSweepInterval]). The sweeper also removes temporary files left by
// writers that crashed.
//
// # Errors
//
// Errors wrap the sentinels of package sessions (ErrNotFound, ErrInvalidID,
// ErrClosed) and the os errors underneath, so errors.Is(err,
// fs.ErrPermission) works. An os error's path has the entry's name
// replaced by "<id>": ids are secrets and must not reach logs.
package directory
