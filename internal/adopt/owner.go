package adopt

import (
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/restore"
	"golang.org/x/sys/unix"
)

// ownerDiffers says how the existing persistent directory full differs
// from the declared owner o ("" when it does not, or cannot be read).
func ownerDiffers(full string, o *restore.Owner) string {
	var st unix.Stat_t
	if o == nil || unix.Fstatat(unix.AT_FDCWD, full, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
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
