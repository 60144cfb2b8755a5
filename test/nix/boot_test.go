package nixtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// envRequireVM makes a missing QEMU, dracut or kernel a failure instead of
// a skip (.ci/run sets it).
const envRequireVM = "DRIFT_REQUIRE_VM"

// envKernel names a Debian kernel package already unpacked (dpkg-deb -x:
// boot/vmlinuz-* and lib/modules/*); without it the test fetches one with
// apt-get download.
const envKernel = "DRIFT_VM_KERNEL"

// skipVM skips the test saying why, or fails it under DRIFT_REQUIRE_VM=1.
func skipVM(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(envRequireVM) == "1" {
		t.Fatalf("%s and %s=1", msg, envRequireVM)
	}
	t.Skipf("%s: the stage-1 wipe is not booted (%s=1 makes this a failure)", msg, envRequireVM)
}

// The drift-wipe.service of the module, the test's own units around it,
// and the report they print on the serial console.
const (
	// reportScript prints what the initrd sees, then syncs and powers off
	// (sysrq o: at once, nothing else of the boot runs). $1 is "report"
	// (after sysroot.mount) or "emergency" (emergency.target reached).
	reportScript = `#!/bin/sh
boot=$(sed -n 's/.*drift.test.boot=\([0-9]*\).*/\1/p' /proc/cmdline)
[ "$1" = report ] && toplevel="$(grep -c '[ ,]subvolid=5\([, ]\|$\)' /proc/self/mountinfo) $(for d in /tmp/drift-top-*; do [ -e "$d" ] && echo x; done | grep -c x)"
{
echo "DRIFT-TEST-BEGIN $1"
echo "wipe: $(systemctl show -p Result --value drift-wipe.service) $(systemctl show -p ActiveState --value drift-wipe.service)"
echo "order: $(systemctl show -p ExecMainExitTimestampMonotonic --value drift-wipe.service) $(systemctl show -p InactiveExitTimestampMonotonic --value sysroot.mount)"
grep ' /sysroot ' /proc/self/mountinfo | sed 's/^/mountinfo: /'
[ "$1" = report ] && echo "toplevel: $toplevel"
for f in /sysroot/* /sysroot/.[!.]*; do [ -e "$f" ] && echo "sysroot: ${f#/sysroot/}"; done
[ -e /run/drift/wipe-failed ] && echo "mark: $(cat /run/drift/wipe-failed)"
echo "DRIFT-TEST-END"
if [ "$1" = report ]; then echo "boot $boot" > /sysroot/boot-file; fi
} > /dev/ttyS0 2>&1
sync
echo o > /proc/sysrq-trigger
`
	reportUnit = `[Unit]
Description=drift test: report the mounted root and power off
DefaultDependencies=no
Requires=sysroot.mount
After=sysroot.mount drift-wipe.service
Before=initrd.target
[Service]
Type=oneshot
ExecStart=/usr/bin/drift-test-report report
`
	// Before=emergency.service: the report is printed and the VM powered
	// off before sulogin starts on the console (it flushed the report's
	// pending output half-written under load).
	emergencyUnit = `[Unit]
Description=drift test: the emergency target was reached
DefaultDependencies=no
Before=emergency.service
[Service]
Type=oneshot
ExecStart=/usr/bin/drift-test-report emergency
`
)

// TestStage1WipeBoot boots the module's systemd stage-1 wipe for real:
// QEMU (TCG) runs Debian's kernel with a dracut/systemd initramfs holding
// the drift binary at its store path and exactly the drift-wipe.service
// the module generates (its links included), on a btrfs disk in the
// seed's layout. A test unit after sysroot.mount prints what the initrd
// sees on the serial console and powers off; the image is read after
// each boot.
//
//  1. The root is retired to old_roots/<time> before sysroot.mount, the
//     fresh root is mounted, the expired old root is gone, a recent one
//     kept.
//  2. The next boot retires again.
//  3. A wipe that fails (old_roots is a file: drift refuses) stops the
//     boot: emergency.target, sysroot never mounted, the image untouched.
//  4. The same with onFailure = "continue": the root is booted as it is,
//     the kernel log says so and /run/drift/wipe-failed is left.
func TestStage1WipeBoot(t *testing.T) {
	needTool(t, "nix-instantiate")
	if os.Getenv(envRequireVM) != "1" && os.Getenv(envKernel) == "" {
		// Four TCG boots take minutes of a whole CPU: only when asked.
		t.Skipf("the stage-1 wipe is booted (four QEMU boots, minutes) with %s=1, as .ci/run sets, or %s=<an unpacked kernel package>", envRequireVM, envKernel)
	}
	if os.Geteuid() != 0 {
		skipVM(t, "not root (loop devices, mounts)")
	}
	for _, tool := range []string{"qemu-system-x86_64", "dracut", "depmod", "unshare", "losetup", "mkfs.btrfs", "btrfs", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipVM(t, "%s not found (apt-get install qemu-system-x86 dracut-core kmod btrfs-progs)", tool)
		}
	}
	vmlinuz, kmoddir, kver := kernel(t)
	drift := driftBuild(t)
	dir := t.TempDir()

	stop := initramfs(t, dir, "stop", drift, kver, kmoddir)
	cont := initramfs(t, dir, "continue", drift, kver, kmoddir)

	// 1 and 2: a healthy disk.
	disk := filepath.Join(dir, "disk.img")
	now := time.Now().UTC()
	recent := now.Add(-48 * time.Hour).Format("2006-01-2_15:04:05")
	makeDisk(t, disk, fmt.Sprintf(`
btrfs -q subvolume create root
echo old > root/marker
mkdir old_roots
btrfs -q subvolume create old_roots/2020-01-1_00:00:00
touch -d 2020-01-01 old_roots/2020-01-1_00:00:00
btrfs -q subvolume create old_roots/%s
echo recent > old_roots/%s/recent
`, recent, recent))

	out := boot(t, vmlinuz, stop, disk, 1)
	r := parseReport(t, out, "report")
	if r.wipe != "success active" {
		t.Errorf("boot 1: drift-wipe.service %q, want success active", r.wipe)
	}
	if r.mountRoot != "/root" || len(r.sysroot) != 0 {
		t.Errorf("boot 1: /sysroot is %q holding %q, want the fresh, empty /root", r.mountRoot, r.sysroot)
	}
	if r.wipeExit <= 0 || r.mountStart <= 0 || r.wipeExit > r.mountStart {
		t.Errorf("boot 1: drift wipe exited at %d µs, sysroot.mount started at %d µs: not before it", r.wipeExit, r.mountStart)
	}
	// The top level is mounted detached (fsmount): nothing of it is left in
	// the initrd, neither a mount nor a directory.
	if r.topLevel != "0 0" {
		t.Errorf("boot 1: top-level mounts and /tmp/drift-top-* directories left: %q, want \"0 0\"", r.topLevel)
	}
	img := readDisk(t, disk)
	olds := img.oldRoots()
	if len(olds) != 2 || !img.has("old_roots/"+recent+"/recent") {
		t.Errorf("boot 1: old roots %q, want the recent one and the retired root (the 2020 one expired)", olds)
	}
	retired1 := ""
	for _, o := range olds {
		if o != recent {
			retired1 = o
		}
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d{1,2}_\d\d:\d\d:\d\d$`).MatchString(retired1) || !img.has("old_roots/"+retired1+"/marker") {
		t.Errorf("boot 1: retired root %q (holding the marker: %v); image:\n%s", retired1, img.has("old_roots/"+retired1+"/marker"), img.text)
	}
	if img.has("root/marker") || !img.has("root/boot-file") {
		t.Errorf("boot 1: the root is not the fresh one mounted at this boot; image:\n%s", img.text)
	}

	out = boot(t, vmlinuz, stop, disk, 2)
	r = parseReport(t, out, "report")
	if r.wipe != "success active" || r.mountRoot != "/root" || len(r.sysroot) != 0 {
		t.Errorf("boot 2: wipe %q, /sysroot %q holding %q", r.wipe, r.mountRoot, r.sysroot)
	}
	img = readDisk(t, disk)
	if olds := img.oldRoots(); len(olds) != 3 {
		t.Errorf("boot 2: old roots %q, want 3", olds)
	}
	retired2 := false
	for _, o := range img.oldRoots() {
		retired2 = retired2 || img.fileIs("old_roots/"+o+"/boot-file", "boot 1\n")
	}
	if !retired2 || !img.fileIs("root/boot-file", "boot 2\n") {
		t.Errorf("boot 2: boot 1's root not retired; image:\n%s", img.text)
	}

	// 3 and 4: drift wipe refuses (old_roots is not a directory).
	failing := `
btrfs -q subvolume create root
echo old > root/marker
echo not a directory > old_roots
`
	makeDisk(t, disk, failing)
	out = boot(t, vmlinuz, stop, disk, 3)
	plain := stripANSI(out)
	if strings.Contains(plain, "DRIFT-TEST-BEGIN report") {
		t.Errorf("boot 3: a failed wipe let the boot mount the root:\n%s", tail(plain))
	}
	for _, say := range []string{"Failed to start drift-wipe", "Dependency failed for sysroot.mount"} {
		if !strings.Contains(plain, say) {
			t.Errorf("boot 3: the console does not say %q:\n%s", say, tail(plain))
		}
	}
	r = parseReport(t, out, "emergency")
	if r.wipe != "exit-code failed" || r.mountRoot != "" {
		t.Errorf("boot 3: drift-wipe.service %q, /sysroot %q, want failed and not mounted", r.wipe, r.mountRoot)
	}
	if img = readDisk(t, disk); !img.has("root/marker") || img.has("root/boot-file") || img.oldRoots() != nil {
		t.Errorf("boot 3: the image changed:\n%s", img.text)
	}

	makeDisk(t, disk, failing)
	out = boot(t, vmlinuz, cont, disk, 4)
	r = parseReport(t, out, "report")
	if r.mountRoot != "/root" || !strings.Contains(strings.Join(r.sysroot, " "), "marker") {
		t.Errorf("boot 4: /sysroot %q holding %q, want the un-wiped root", r.mountRoot, r.sysroot)
	}
	if !regexp.MustCompile(`^drift wipe exit status [1-9]\d*$`).MatchString(r.mark) {
		t.Errorf("boot 4: mark %q", r.mark)
	}
	if !regexp.MustCompile(`drift: drift wipe failed \(exit status [1-9]\d*\): the root subvolume was not rolled back`).MatchString(stripANSI(out)) {
		t.Errorf("boot 4: no kernel log line on the console:\n%s", tail(stripANSI(out)))
	}
	if img = readDisk(t, disk); !img.has("root/marker") || !img.fileIs("root/boot-file", "boot 4\n") {
		t.Errorf("boot 4: image:\n%s", img.text)
	}
}

// kernel returns a Debian kernel's vmlinuz, its modules directory and
// version: DRIFT_VM_KERNEL's, else linux-image-amd64's dependency fetched
// with apt-get download and unpacked with dpkg-deb -x (never installed),
// then depmod.
func kernel(t *testing.T) (vmlinuz, kmoddir, kver string) {
	t.Helper()
	root := os.Getenv(envKernel)
	if root == "" {
		for _, tool := range []string{"apt-get", "apt-cache", "dpkg-deb"} {
			if _, err := exec.LookPath(tool); err != nil {
				skipVM(t, "no %s and no %s to fetch a kernel with", envKernel, tool)
			}
		}
		out, err := exec.Command("apt-cache", "depends", "linux-image-amd64").Output()
		m := regexp.MustCompile(`Depends: (linux-image-[0-9][^\s]*)`).FindSubmatch(out)
		if err != nil || m == nil {
			skipVM(t, "apt-cache depends linux-image-amd64: %v %q", err, out)
		}
		root = t.TempDir()
		cmd := exec.Command("apt-get", "download", string(m[1]))
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			skipVM(t, "apt-get download %s: %v\n%s", m[1], err, out)
		}
		debs, _ := filepath.Glob(filepath.Join(root, "*.deb"))
		if len(debs) != 1 {
			t.Fatalf("apt-get download left %q", debs)
		}
		run(t, "dpkg-deb", "-x", debs[0], root)
	}
	vm, _ := filepath.Glob(filepath.Join(root, "boot/vmlinuz-*"))
	if len(vm) != 1 {
		skipVM(t, "%s holds no single boot/vmlinuz-* (%q)", root, vm)
	}
	kver = strings.TrimPrefix(filepath.Base(vm[0]), "vmlinuz-")
	kmoddir = filepath.Join(root, "lib/modules", kver)
	if _, err := os.Stat(filepath.Join(kmoddir, "modules.dep")); err != nil {
		run(t, "depmod", "-b", root, kver)
	}
	return vm[0], kmoddir, kver
}

// initramfs builds a dracut/systemd initramfs holding the module's
// drift-wipe.service for onFailure (device /dev/vda), the drift binary at
// each of the module's storePaths, and the test's report units.
func initramfs(t *testing.T, dir, onFailure, drift, kver, kmoddir string) string {
	t.Helper()
	v, err := evalModule(t, "--arg", "settings", fmt.Sprintf(`{ enable = true; wipe = { enable = true; device = "/dev/vda"; onFailure = %q; }; }`, onFailure),
		"--arg", "system", `{ boot.initrd.systemd.enable = true; }`)
	if err != nil {
		t.Fatal(err)
	}
	initrd := v["config"].(map[string]any)["boot"].(map[string]any)["initrd"].(map[string]any)["systemd"].(map[string]any)
	stage := filepath.Join(dir, "stage-"+onFailure)
	units := filepath.Join(stage, "etc/systemd/system")
	for _, p := range strs(initrd["storePaths"]) {
		data, err := os.ReadFile(drift)
		if err != nil {
			t.Fatal(err)
		}
		testutil.WriteFileMode(t, filepath.Join(stage, p), string(data), 0o755)
	}
	svc := initrd["services"].(map[string]any)
	if len(svc) != 1 {
		t.Fatalf("initrd services %v, want drift-wipe alone", svc)
	}
	u, err := nixosUnit("drift-wipe.service", svc["drift-wipe"].(map[string]any), "/bin/bash")
	if err != nil {
		t.Fatal(err)
	}
	u.install(t, stage, units)
	testutil.WriteFileMode(t, filepath.Join(stage, "usr/bin/drift-test-report"), reportScript, 0o755)
	report := unitFile{Name: "drift-test-report.service", Text: reportUnit, Links: []string{"initrd.target.wants/drift-test-report.service"}}
	report.install(t, stage, units)
	emergency := unitFile{Name: "drift-test-emergency.service", Text: emergencyUnit, Links: []string{"emergency.target.wants/drift-test-emergency.service"}}
	emergency.install(t, stage, units)
	t.Logf("%s: drift-wipe.service:\n%s(links %q)", onFailure, u.Text, u.Links)

	img := filepath.Join(dir, "initrd-"+onFailure+".img")
	run(t, "dracut", "--quiet", "--no-hostonly", "--force", "--no-compress",
		"-m", "systemd systemd-initrd base bash fs-lib kernel-modules rootfs-block btrfs udev-rules",
		"--drivers", "virtio_blk virtio_pci btrfs", "--kver", kver, "--kmoddir", kmoddir,
		"--include", stage, "/",
		// systemd's own emergency.service, as NixOS's initrd has it (dracut's
		// systemd modules leave it out without dracut-systemd).
		"--install", "grep sed sync cat sulogin /usr/lib/systemd/system/emergency.service /usr/lib/systemd/systemd-sulogin-shell", img)
	return img
}

// makeDisk makes a fresh 256 MiB btrfs image at disk and runs script (sh)
// in its top level, mounted in a private mount namespace, then unmounts it
// and detaches the loop device.
func makeDisk(t *testing.T, disk, script string) {
	t.Helper()
	os.Remove(disk)
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 256<<20); err != nil {
		t.Fatal(err)
	}
	run(t, "mkfs.btrfs", "-q", disk)
	inDisk(t, disk, false, script)
}

// inDisk runs script with the image's top level mounted (read-only when
// ro) as its working directory, in a private mount namespace; it returns
// the script's output.
func inDisk(t *testing.T, disk string, ro bool, script string) string {
	t.Helper()
	mnt := t.TempDir()
	opt, loopRO := "", ""
	if ro {
		opt, loopRO = "-o ro", "-r"
	}
	wrapper := fmt.Sprintf(`set -e
l=$(losetup -f --show %s %q)
trap 'cd /; umount %q 2>/dev/null || true; losetup -d "$l"' EXIT
mount %s "$l" %q
cd %q
%s
`, loopRO, disk, mnt, opt, mnt, mnt, script)
	out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", wrapper).CombinedOutput()
	if err != nil {
		t.Fatalf("in the disk image: %v\n%s\nscript:\n%s", err, out, script)
	}
	return string(out)
}

// image is what readDisk saw: every subvolume's path, and every file and
// directory down to three levels with a file's content.
type image struct {
	subvols []string
	files   map[string]string
	text    string
}

func readDisk(t *testing.T, disk string) image {
	t.Helper()
	out := inDisk(t, disk, true, `btrfs subvolume list . | sed 's/.* path /SUBVOL /'
find . -mindepth 1 -maxdepth 3 | sort | while read -r f; do
  if [ -f "$f" ]; then printf 'FILE %s %s\n' "${f#./}" "$(head -c 64 "$f" | tr '\n' '|')"; else printf 'DIR %s\n' "${f#./}"; fi
done`)
	img := image{files: map[string]string{}, text: out}
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "SUBVOL "):
			img.subvols = append(img.subvols, strings.TrimPrefix(l, "SUBVOL "))
		case strings.HasPrefix(l, "FILE "):
			name, content, _ := strings.Cut(strings.TrimPrefix(l, "FILE "), " ")
			img.files[name] = strings.ReplaceAll(content, "|", "\n")
		case strings.HasPrefix(l, "DIR "):
			img.files[strings.TrimPrefix(l, "DIR ")] = "<dir>"
		}
	}
	return img
}

// oldRoots lists the subvolumes in old_roots, by name.
func (img image) oldRoots() []string {
	var out []string
	for _, s := range img.subvols {
		if n, ok := strings.CutPrefix(s, "old_roots/"); ok {
			out = append(out, n)
		}
	}
	return out
}

func (img image) has(name string) bool { _, ok := img.files[name]; return ok }

func (img image) fileIs(name, content string) bool { return img.files[name] == content }

// boot boots the kernel with initrd on disk (/dev/vda, root subvolume
// root) and returns the serial console's output. The VM powers itself off
// (the test's report units); one that does not within 5 minutes fails the
// test.
func boot(t *testing.T, vmlinuz, initrd, disk string, n int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-smp", "1",
		"-nographic", "-no-reboot", "-monitor", "none", "-serial", "stdio",
		"-kernel", vmlinuz, "-initrd", initrd,
		"-append", fmt.Sprintf("console=ttyS0 root=/dev/vda rootfstype=btrfs rootflags=subvol=root rw panic=-1 loglevel=4 systemd.show_status=1 drift.test.boot=%d", n),
		"-drive", "file="+disk+",if=virtio,format=raw")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("boot %d: %.0f s", n, time.Since(start).Seconds())
	if ctx.Err() != nil {
		t.Fatalf("boot %d did not power off in 5 minutes; console:\n%s", n, tail(stripANSI(out.String())))
	}
	if err != nil {
		t.Fatalf("boot %d: qemu: %v\n%s", n, err, tail(stripANSI(out.String())))
	}
	return out.String()
}

// report is what the test's report unit printed.
type report struct {
	wipe      string   // drift-wipe.service's Result and ActiveState
	mountRoot string   // the subvolume mounted at /sysroot ("" for none)
	sysroot   []string // what /sysroot holds
	mark      string   // /run/drift/wipe-failed's content
	// topLevel is the count of top-level (subvolid=5) mounts left in the
	// initrd's mount namespace and of /tmp/drift-top-* directories: "0 0".
	topLevel string
	// When drift wipe exited and when sysroot.mount started (CLOCK_MONOTONIC,
	// µs; 0 when it did not).
	wipeExit, mountStart int64
}

// parseReport finds the report of kind ("report" or "emergency") on the
// console; its absence fails the test.
func parseReport(t *testing.T, console, kind string) report {
	t.Helper()
	plain := stripANSI(console)
	i := strings.Index(plain, "DRIFT-TEST-BEGIN "+kind+"\n")
	j := strings.Index(plain, "DRIFT-TEST-END")
	if i < 0 || j < i {
		t.Fatalf("no %s on the console:\n%s", kind, tail(plain))
	}
	var r report
	for _, l := range strings.Split(plain[i:j], "\n") {
		l = strings.TrimRight(l, "\r")
		switch {
		case strings.HasPrefix(l, "wipe: "):
			r.wipe = strings.TrimPrefix(l, "wipe: ")
		case strings.HasPrefix(l, "mountinfo: "):
			if f := strings.Fields(l); len(f) > 4 {
				r.mountRoot = f[4]
			}
		case strings.HasPrefix(l, "sysroot: "):
			r.sysroot = append(r.sysroot, strings.TrimPrefix(l, "sysroot: "))
		case strings.HasPrefix(l, "order: "):
			fmt.Sscan(strings.TrimPrefix(l, "order: "), &r.wipeExit, &r.mountStart)
		case strings.HasPrefix(l, "mark: "):
			r.mark = strings.TrimPrefix(l, "mark: ")
		case strings.HasPrefix(l, "toplevel: "):
			r.topLevel = strings.TrimPrefix(l, "toplevel: ")
		}
	}
	return r
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// stripANSI drops terminal escapes and carriage returns.
func stripANSI(s string) string {
	return strings.ReplaceAll(ansi.ReplaceAllString(s, ""), "\r", "")
}

// tail is the last 80 lines of s.
func tail(s string) string {
	l := strings.Split(s, "\n")
	if len(l) > 80 {
		l = l[len(l)-80:]
	}
	return strings.Join(l, "\n")
}

// run runs a command, failing the test with its output when it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
