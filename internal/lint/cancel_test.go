package lint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/persist"
)

// TestCheckContext: a cancelled ctx stops Check with its error; and many
// findings in one large file are filtered for suppression comments in
// linear time (each finding once used to rescan the file from its start:
// 200,000 findings in a 4 MB file took minutes).
func TestCheckContext(t *testing.T) {
	var b strings.Builder
	b.WriteString("{ environment.persistence.\"/p\".directories = [\n")
	for i := range 100000 {
		fmt.Fprintf(&b, "  \"/var/lib/d%d/\"\n", i)
	}
	b.WriteString("]; }\n")
	data := []byte(b.String())
	s, err := persist.ParseNix(data, "f.nix", persist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Sets: []*persist.Set{s}, Sources: map[string][]byte{"f.nix": data}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CheckContext(ctx, c, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	start := time.Now()
	fs, err := CheckContext(context.Background(), c, nil)
	if err != nil || len(only(fs, "path-slashes")) != 100000 {
		t.Fatalf("err %v, %d trailing-slash findings", err, len(only(fs, "path-slashes")))
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Check took %v", d)
	}
}

// TestSuppressBlockComment: /* drift-lint: disable=RULE */ suppresses like
// the # form, before the entry on its line or on the line before.
func TestSuppressBlockComment(t *testing.T) {
	for _, src := range []string{
		"{ environment.persistence.\"/p\".directories = [ /* drift-lint: disable=path-slashes */ \"/var/log/\" ]; }",
		"{ environment.persistence.\"/p\".directories = [\n  /* drift-lint: disable=path-slashes */\n  \"/var/log/\"\n]; }",
	} {
		if got := only(lintNix(t, src), "path-slashes"); got != nil {
			t.Errorf("%q: not suppressed: %v", src, got)
		}
	}
}

// TestDuplicateSystemAndUser: a system-wide entry and a users.<name> entry
// naming the same path in one storage path are a duplicate (impermanence's
// own assertion fails on it), reported with both positions.
func TestDuplicateSystemAndUser(t *testing.T) {
	src := `{ environment.persistence."/persist" = {
  directories = [ "/home/alice/Music" ];
  users.alice.directories = [ "Music" ];
}; }`
	got := lintNix(t, src)
	d := only(got, "duplicate")
	if len(d) != 1 {
		t.Fatalf("duplicate findings %v, want one", d)
	}
	for _, f := range got {
		if f.Rule == "duplicate" && !strings.Contains(f.Message, "f.nix:2:") {
			t.Errorf("message %q does not name the other position", f.Message)
		}
	}
}

// TestKnownHint: the "known:" hint of an unknown attribute lists what a
// user may write, not the module's internal or removed names.
func TestKnownHint(t *testing.T) {
	src := `{ environment.persistence."/p".directories = [ { directory = "/x"; zzz = 1; } ]; }`
	var hint string
	for _, f := range lintNix(t, src) {
		if f.Rule == "unknown-attribute" {
			hint = f.Hint
		}
	}
	if !strings.Contains(hint, "known: directory, user, group, mode") {
		t.Fatalf("hint %q", hint)
	}
	for _, internal := range []string{"method", "dirPath", "home", "defaultPerms", "enableDebugging"} {
		if strings.Contains(hint, internal) {
			t.Errorf("hint %q names %s", hint, internal)
		}
	}
}

// TestMissingWithUnreadPart: when part of the lists cannot be read
// statically (++ a variable from `with`), the missing-state rules do not
// warn: they are infos saying why.
func TestMissingWithUnreadPart(t *testing.T) {
	src := `{ pkgs, ... }: with pkgs; {
  environment.persistence."/p".directories = [ "/srv" ] ++ extraDirs;
}`
	for _, f := range lintNix(t, src) {
		if strings.HasPrefix(f.Rule, "missing-") || f.Rule == "mutable-users" {
			if f.Severity != Info || !strings.Contains(f.Message, "could not be read statically at f.nix:2:") {
				t.Errorf("%s: %s %q", f.Rule, f.Severity, f.Message)
			}
		}
	}
	if got := only(lintNix(t, src), "missing-var-log"); len(got) != 1 {
		t.Errorf("missing-var-log: %v, want one info", got)
	}
}

// TestInterpolatedStoragePath: a storage path whose name is interpolated
// is not-static, and its body is still read: duplicate and removed-option
// fire in it.
func TestInterpolatedStoragePath(t *testing.T) {
	src := `{ config, ... }: {
  home.persistence."/nix/persist/home/${config.home.username}" = {
    directories = [ "Documents" "Documents" ];
    allowOther = true;
  };
  environment.persistence."/persist/${config.networking.hostName}".directories = [ "/srv" "/srv" ];
}`
	got := lintNix(t, src)
	for rule, want := range map[string][]string{
		"not-static":     {"2:20 warning", "6:27 warning"},
		"duplicate":      {"3:33 error", "6:91 error"},
		"removed-option": {"2:20 error", "4:5 error"},
		"unit-name":      nil,
	} {
		if g := only(got, rule); strings.Join(g, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v", rule, g, want)
		}
	}
}

// TestEtcUserFilesHint: with users.mutableUsers = false the hint does not
// ask to set it.
func TestEtcUserFilesHint(t *testing.T) {
	src := `{ users.mutableUsers = false; environment.persistence."/p".files = [ "/etc/shadow" ]; }`
	for _, f := range lintNix(t, src) {
		if f.Rule == "etc-user-files" && strings.Contains(f.Hint, "set users.mutableUsers = false") {
			t.Errorf("hint %q", f.Hint)
		}
	}
}

// TestMinorMessages: an unknown rule in a suppression comment is a
// warning; /var/lib/../baz is not inside /var/lib; a path with trailing
// white space is quoted; a control character is \x07 in every message;
// the /etc/nix hint does not talk about ssh keys.
func TestMinorMessages(t *testing.T) {
	src := "{\n  # drift-lint: disable=nosuchrule,path-dot\n  environment.persistence.\"/p\".directories = [ \"/var/lib\" \"/var/lib/../baz\" \"/var/lib/app \" \"/etc/nix\" \"/srv/a\x07/\" ];\n}"
	fs := lintNix(t, src)
	var decl, nested []string
	for _, f := range fs {
		switch f.Rule {
		case "declaration":
			decl = append(decl, fmt.Sprintf("%d:%d %s", f.Pos.Line, f.Pos.Col, f.Message))
		case "nested-directory":
			nested = append(nested, f.Message)
		case "etc-generated-dir":
			if strings.Contains(f.Hint, "ssh") {
				t.Errorf("/etc/nix hint %q", f.Hint)
			}
		case "path-slashes":
			if !strings.Contains(f.Message, `"/srv/a\x07/"`) || !strings.Contains(f.Message, `/srv/a\x07 (`) {
				t.Errorf("control character: %q", f.Message)
			}
		}
	}
	if len(decl) != 1 || !strings.HasPrefix(decl[0], "2:25 drift-lint: disable=nosuchrule names no rule") {
		t.Errorf("declaration findings %q", decl)
	}
	if len(nested) != 1 || !strings.Contains(nested[0], `directory "/var/lib/app " lies inside`) {
		t.Errorf("nested-directory %q", nested)
	}
}

// TestJSONNullDirectory: {"directory": null} is a declaration error, not
// silently skipped.
func TestJSONNullDirectory(t *testing.T) {
	s, err := persist.ParseJSON([]byte(`{"/p": {"directories": [{"directory": null}, "/x"]}}`), "n.json", persist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := Check(Config{Sets: []*persist.Set{s}}, nil)
	if got := only(fs, "declaration"); len(got) != 1 || got[0] != "1:39 error" {
		t.Errorf("declaration: %v", got)
	}
}

// TestNestedUnknownOnce: parentDirectory.mod on a directory entry (which
// has no parentDirectory) is one finding, about parentDirectory, not a
// second one suggesting parentDirectory.mode; on a file it suggests
// parentDirectory.mode.
func TestNestedUnknownOnce(t *testing.T) {
	src := `{ environment.persistence."/p" = {
  directories = [ { directory = "/x"; parentDirectory.mod = "0700"; } ];
  files = [ { file = "/etc/a"; parentDirectory.mod = "0700"; } ];
}; }`
	var got []string
	for _, f := range lintNix(t, src) {
		if f.Rule == "unknown-attribute" {
			got = append(got, fmt.Sprintf("%d %s | %s", f.Pos.Line, f.Message, f.Hint))
		}
	}
	if len(got) != 2 || !strings.Contains(got[0], "`parentDirectory`,") || !strings.Contains(got[1], "did you mean `parentDirectory.mode`") {
		t.Errorf("findings:\n%s", strings.Join(got, "\n"))
	}
}
