package adopt

import (
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/restore"
	"golang.org/x/sys/unix"
)

// ownerDiffers says how the existing persistent directory dest (absolute
// inside root) differs from the declared owner o ("" when it does not, or
// cannot be read: lstat'ed beneath root by fsys.StatIn, never through a
// symlink).
func ownerDiffers(root, dest string, o *restore.Owner) string {
	if o == nil {
		return ""
	}
	st, err := fsys.StatIn(root, dest)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return ""
	}
	var d []string
	if o.UID >= 0 && int(st.Uid) != o.UID {
		d = append(d, fmt.Sprintf("owner %d, declared %d", st.Uid, o.UID))
	}
	if o.GID >= 0 && int(st.Gid) != o.GID {
		d = append(d, fmt.Sprintf("group %d, declared %d", st.Gid, o.GID))
	}
	if o.Mode >= 0 && int(st.Mode&0o7777) != o.Mode {
		d = append(d, fmt.Sprintf("mode %04o, declared %04o", st.Mode&0o7777, o.Mode))
	}
	return strings.Join(d, ", ")
}
