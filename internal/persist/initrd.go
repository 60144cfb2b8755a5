package persist

import (
	"github.com/nix-drift/drift/internal/persist/nix"
	"strings"
)

// Initrd is what a configuration sets about stage 1 (the initrd) and the
// wipe it runs, the options of nixpkgs' stage-1.nix and
// systemd/initrd.nix that drift lint's wipe rules read, and drift's own
// services.drift.wipe.
type Initrd struct {
	// Systemd is boot.initrd.systemd.enable. Unset, its default applies:
	// false (the scripted stage 1) before NixOS 26.05, true from 26.05
	// (nixpkgs PR #435781).
	Systemd Flag
	// Release is system.nixos.release ("26.05"); --flake only, "" when
	// not known.
	Release string
	// Hooks are the shell hooks of the scripted stage 1 that are set.
	Hooks []Hook
	// Units are boot.initrd.systemd.services.<name>.
	Units []Unit
	// ResumeDevice is boot.resumeDevice when set to a non-empty string;
	// ResumeParam a boot.kernelParams item "resume=…"; Swap the devices of
	// swapDevices (the scripted stage 1 tries to resume from each).
	ResumeDevice Str
	ResumeParam  Str
	Swap         []Str
	// DriftWipe is services.drift.wipe.enable (nix/module.nix).
	DriftWipe Flag
	// DriftWipeSubvol is services.drift.wipe.subvolume when set to a
	// string (in an evaluated configuration, also its default "root").
	DriftWipeSubvol Str
	// DriftWipeOldRoots is services.drift.wipe.oldRoots when set to a
	// string (in an evaluated configuration, also its default
	// "old_roots"): where drift wipe keeps old roots (--old-roots).
	DriftWipeOldRoots Str
	// DriftWipeBlank is services.drift.wipe.blank when set to a string:
	// the subvolume the fresh root is a snapshot of (drift wipe --blank).
	DriftWipeBlank Str
	// Evaluated marks an Initrd read from nix eval output (--flake): the
	// defaults are applied, and the hooks and units of every module,
	// services.drift.wipe's included, are in it.
	Evaluated bool
}

// HookOptions are the shell hooks of the scripted stage 1 (nixpkgs
// stage-1.nix), in the order stage-1-init.sh runs them: the first three
// before the attempt to resume from hibernation, postResumeCommands after
// it, postMountCommands after the file systems (the root at /mnt-root)
// are mounted.
var HookOptions = []string{"preDeviceCommands", "preLVMCommands", "postDeviceCommands", "postResumeCommands", "postMountCommands"}

// Hook is one boot.initrd.<Option> that is set.
type Hook struct {
	Option string // one of HookOptions
	// Text is the shell text; an interpolation that cannot be read
	// statically is written "${…}".
	Text string
	Pos  Pos
}

// Unit is one boot.initrd.systemd.services.<Name>: its dependencies, from
// the options (wantedBy, after, …) and from unitConfig (After=, …), and
// the commands it runs.
type Unit struct {
	Name string
	Pos  Pos
	// WantedBy, RequiredBy and UpheldBy are the units that pull it in
	// ([Install], made into .wants/.requires/.upholds links).
	WantedBy, RequiredBy, UpheldBy []string
	// Wants, Requires, BindsTo, Requisite, After and Before are its own
	// dependencies and orderings.
	Wants, Requires, BindsTo, Requisite, After, Before []string
	// OnFailure is set when unitConfig.OnFailure or FailureAction is.
	OnFailure bool
	// Text is script, preStart and serviceConfig.ExecStart, one per line
	// (interpolations that cannot be read written "${…}").
	Text string
	// IgnoresFailure is set when an ExecStart starts with "-" (systemd
	// then ignores its exit status).
	IgnoresFailure bool
}

// merge adds o to i: flags and strings set in o win when i leaves them
// unset, lists are appended.
func (i *Initrd) merge(o *Initrd) {
	for _, p := range [][2]*Flag{{&i.Systemd, &o.Systemd}, {&i.DriftWipe, &o.DriftWipe}} {
		if p[0].Value == Unset {
			*p[0] = *p[1]
		}
	}
	for _, p := range [][2]*Str{{&i.ResumeDevice, &o.ResumeDevice}, {&i.ResumeParam, &o.ResumeParam}, {&i.DriftWipeSubvol, &o.DriftWipeSubvol}, {&i.DriftWipeOldRoots, &o.DriftWipeOldRoots}, {&i.DriftWipeBlank, &o.DriftWipeBlank}} {
		if p[0].Value == "" {
			*p[0] = *p[1]
		}
	}
	if i.Release == "" {
		i.Release = o.Release
	}
	i.Evaluated = i.Evaluated || o.Evaluated
	i.Hooks = append(i.Hooks, o.Hooks...)
	for _, u := range o.Units {
		i.addUnit(u)
	}
	i.Swap = append(i.Swap, o.Swap...)
}

// addUnit adds u, merged into a unit of the same name defined before (in
// another file: the module system merges the definitions, lists
// concatenated, the first position kept).
func (i *Initrd) addUnit(u Unit) {
	for k := range i.Units {
		if i.Units[k].Name != u.Name {
			continue
		}
		m := &i.Units[k]
		src := u.unitLists()
		for j, l := range m.unitLists() {
			*l.list = append(*l.list, *src[j].list...)
		}
		m.OnFailure = m.OnFailure || u.OnFailure
		m.IgnoresFailure = m.IgnoresFailure || u.IgnoresFailure
		if u.Text != "" {
			m.Text = strings.TrimPrefix(m.Text+"\n"+u.Text, "\n")
		}
		return
	}
	i.Units = append(i.Units, u)
}

// unitLists names a Unit's lists by their option (wantedBy) and, where
// there is one, unitConfig key (After).
func (u *Unit) unitLists() []struct {
	option, key string
	list        *[]string
} {
	return []struct {
		option, key string
		list        *[]string
	}{
		{"wantedBy", "", &u.WantedBy}, {"requiredBy", "", &u.RequiredBy}, {"upheldBy", "", &u.UpheldBy},
		{"wants", "Wants", &u.Wants}, {"requires", "Requires", &u.Requires}, {"bindsTo", "BindsTo", &u.BindsTo},
		{"requisite", "Requisite", &u.Requisite}, {"after", "After", &u.After}, {"before", "Before", &u.Before},
	}
}

// readInitrd reads cfg's Initrd statically; what cannot be read is
// Unknown or left out.
func (r *reader) readInitrd(cfg *nix.Value, flag func(*nix.Value) Flag) Initrd {
	var in Initrd
	q := func(v *nix.Value, names ...string) *nix.Value {
		for _, n := range names {
			if v = r.quiet(v, n); v == nil {
				return nil
			}
		}
		return v
	}
	in.Systemd = flag(q(cfg, "boot", "initrd", "systemd", "enable"))
	in.DriftWipe = flag(q(cfg, "services", "drift", "wipe", "enable"))
	if v := q(cfg, "services", "drift", "wipe", "subvolume"); v != nil && v.Kind == nix.KindString {
		in.DriftWipeSubvol = Str{v.Str, r.pos(v.Off)}
	}
	if v := q(cfg, "services", "drift", "wipe", "oldRoots"); v != nil && v.Kind == nix.KindString {
		in.DriftWipeOldRoots = Str{v.Str, r.pos(v.Off)}
	}
	if v := q(cfg, "services", "drift", "wipe", "blank"); v != nil && v.Kind == nix.KindString {
		in.DriftWipeBlank = Str{v.Str, r.pos(v.Off)}
	}
	for _, h := range HookOptions {
		if v := q(cfg, "boot", "initrd", h); v != nil {
			if t, ok := r.text(v); ok {
				in.Hooks = append(in.Hooks, Hook{Option: h, Text: t, Pos: r.pos(v.Off)})
			}
		}
	}
	if v := q(cfg, "boot", "resumeDevice"); v != nil && v.Kind == nix.KindString && v.Str != "" {
		in.ResumeDevice = Str{v.Str, r.pos(v.Off)}
	}
	for _, s := range r.words(q(cfg, "boot", "kernelParams"), false) {
		if strings.HasPrefix(s.Value, "resume=") && in.ResumeParam.Value == "" {
			in.ResumeParam = s
		}
	}
	if l := q(cfg, "swapDevices"); l != nil && l.Kind == nix.KindList {
		for _, it := range r.src.List(l) {
			d := r.force(it)
			s := Str{"a swap device", r.pos(d.Off)}
			for _, k := range []string{"device", "label"} {
				if v := r.quiet(d, k); v != nil && v.Kind == nix.KindString {
					s.Value = v.Str
				}
			}
			in.Swap = append(in.Swap, s)
		}
	}
	if ss := q(cfg, "boot", "initrd", "systemd", "services"); ss != nil && ss.Kind == nix.KindAttrs {
		for _, name := range ss.Attrs.Keys {
			sv := r.quiet(ss, name)
			if sv == nil || sv.Kind != nix.KindAttrs {
				continue
			}
			in.Units = append(in.Units, r.readUnit(name, r.pos(ss.Attrs.ByName[name].Off), sv))
		}
	}
	return in
}

// readUnit reads one boot.initrd.systemd.services.<name>.
func (r *reader) readUnit(name string, pos Pos, sv *nix.Value) Unit {
	u := Unit{Name: name, Pos: pos}
	uc := r.quiet(sv, "unitConfig")
	for _, l := range u.unitLists() {
		for _, s := range r.words(r.quiet(sv, l.option), false) {
			*l.list = append(*l.list, s.Value)
		}
		if l.key != "" {
			for _, s := range r.words(r.quiet(uc, l.key), true) {
				*l.list = append(*l.list, s.Value)
			}
		}
	}
	sc := r.quiet(sv, "serviceConfig")
	u.OnFailure = r.quiet(uc, "OnFailure") != nil || r.quiet(uc, "FailureAction") != nil
	var text []string
	for _, v := range []*nix.Value{r.quiet(sv, "preStart"), r.quiet(sv, "script")} {
		if t, ok := r.text(v); ok {
			text = append(text, t)
		}
	}
	ex := r.quiet(sc, "ExecStart")
	if ex != nil && ex.Kind == nix.KindList {
		for _, it := range r.src.List(ex) {
			if t, ok := r.text(r.force(it)); ok {
				text = append(text, t)
			}
		}
	} else if t, ok := r.text(ex); ok {
		text = append(text, t)
	}
	for _, t := range text {
		if strings.HasPrefix(strings.TrimSpace(t), "-") {
			u.IgnoresFailure = true
		}
	}
	u.Text = strings.Join(text, "\n")
	return u
}

// text is v's string, or for a string with interpolations that cannot be
// read, its text with those written "${…}".
func (r *reader) text(v *nix.Value) (string, bool) {
	switch {
	case v == nil:
		return "", false
	case v.Kind == nix.KindString:
		return v.Str, true
	case v.Kind == nix.KindUnknown && v.Text != "":
		return v.Text, true
	}
	return "", false
}

// words reads a list of strings (items that cannot be read are left out),
// or, when split, also a single string of space-separated words (a
// unitConfig value such as After = "a.service b.target").
func (r *reader) words(v *nix.Value, split bool) []Str {
	if v == nil {
		return nil
	}
	var out []Str
	one := func(x *nix.Value) {
		if x.Kind != nix.KindString {
			return
		}
		if !split {
			out = append(out, Str{x.Str, r.pos(x.Off)})
			return
		}
		for _, w := range strings.Fields(x.Str) {
			out = append(out, Str{w, r.pos(x.Off)})
		}
	}
	if v.Kind == nix.KindList {
		for _, it := range r.src.List(v) {
			one(r.force(it))
		}
		return out
	}
	if split {
		one(v)
	}
	return out
}

// flakeInitrd is config-projection.nix's initrd.
type flakeInitrd struct {
	Systemd  *bool              `json:"systemd"`
	Release  *string            `json:"release"`
	Hooks    map[string]*string `json:"hooks"`
	Services map[string]struct {
		WantedBy   []string            `json:"wantedBy"`
		RequiredBy []string            `json:"requiredBy"`
		UpheldBy   []string            `json:"upheldBy"`
		Wants      []string            `json:"wants"`
		Requires   []string            `json:"requires"`
		BindsTo    []string            `json:"bindsTo"`
		Requisite  []string            `json:"requisite"`
		After      []string            `json:"after"`
		Before     []string            `json:"before"`
		UnitConfig map[string][]string `json:"unitConfig"`
		Script     *string             `json:"script"`
		PreStart   *string             `json:"preStart"`
		ExecStart  []string            `json:"execStart"`
	} `json:"services"`
	ResumeDevice    *string   `json:"resumeDevice"`
	KernelParams    []string  `json:"kernelParams"`
	SwapDevices     []*string `json:"swapDevices"`
	DriftWipe       *bool     `json:"driftWipe"`
	DriftWipeSubvol *string   `json:"driftWipeSubvol"`
	DriftWipeBlank  *string   `json:"driftWipeBlank"`
	// DriftWipeOldRoots is services.drift.wipe.oldRoots.
	DriftWipeOldRoots *string `json:"driftWipeOldRoots"`
}

// initrd converts the projection's initrd, placing each option at
// attr.<option>.
func (f *flakeInitrd) initrd(attr string) Initrd {
	in := Initrd{Evaluated: true}
	if f == nil {
		return in
	}
	at := func(name string) Pos { return Pos{File: attr + "." + name} }
	flag := func(b *bool, name string) Flag {
		switch {
		case b == nil:
			return Flag{}
		case *b:
			return Flag{True, at(name)}
		}
		return Flag{False, at(name)}
	}
	in.Systemd = flag(f.Systemd, "boot.initrd.systemd.enable")
	in.DriftWipe = flag(f.DriftWipe, "services.drift.wipe.enable")
	if f.DriftWipeSubvol != nil {
		in.DriftWipeSubvol = Str{*f.DriftWipeSubvol, at("services.drift.wipe.subvolume")}
	}
	if f.DriftWipeOldRoots != nil {
		in.DriftWipeOldRoots = Str{*f.DriftWipeOldRoots, at("services.drift.wipe.oldRoots")}
	}
	if f.DriftWipeBlank != nil {
		in.DriftWipeBlank = Str{*f.DriftWipeBlank, at("services.drift.wipe.blank")}
	}
	if f.Release != nil {
		in.Release = *f.Release
	}
	for _, h := range HookOptions {
		if t := f.Hooks[h]; t != nil && strings.TrimSpace(*t) != "" {
			in.Hooks = append(in.Hooks, Hook{Option: h, Text: *t, Pos: at("boot.initrd." + h)})
		}
	}
	if f.ResumeDevice != nil && *f.ResumeDevice != "" {
		in.ResumeDevice = Str{*f.ResumeDevice, at("boot.resumeDevice")}
	}
	for _, p := range f.KernelParams {
		if strings.HasPrefix(p, "resume=") && in.ResumeParam.Value == "" {
			in.ResumeParam = Str{p, at("boot.kernelParams")}
		}
	}
	for _, d := range f.SwapDevices {
		s := Str{"a swap device", at("swapDevices")}
		if d != nil {
			s.Value = *d
		}
		in.Swap = append(in.Swap, s)
	}
	for _, name := range sortedKeys(f.Services) {
		s := f.Services[name]
		u := Unit{Name: name, Pos: at("boot.initrd.systemd.services." + nix.AttrName(name))}
		own := map[string][]string{"wantedBy": s.WantedBy, "requiredBy": s.RequiredBy, "upheldBy": s.UpheldBy,
			"wants": s.Wants, "requires": s.Requires, "bindsTo": s.BindsTo, "requisite": s.Requisite, "after": s.After, "before": s.Before}
		for _, l := range u.unitLists() {
			*l.list = append(*l.list, own[l.option]...)
			if l.key != "" {
				for _, w := range s.UnitConfig[l.key] {
					*l.list = append(*l.list, strings.Fields(w)...)
				}
			}
		}
		u.OnFailure = len(s.UnitConfig["OnFailure"]) > 0 || len(s.UnitConfig["FailureAction"]) > 0
		var text []string
		for _, t := range []*string{s.PreStart, s.Script} {
			if t != nil && strings.TrimSpace(*t) != "" {
				text = append(text, *t)
			}
		}
		for _, e := range s.ExecStart {
			text = append(text, e)
			if strings.HasPrefix(strings.TrimSpace(e), "-") {
				u.IgnoresFailure = true
			}
		}
		u.Text = strings.Join(text, "\n")
		in.Units = append(in.Units, u)
	}
	return in
}

// WipeBlank is the subvolume (relative to the btrfs top level) the wipe
// makes the fresh root a snapshot of, and where that is said:
// services.drift.wipe.blank, else a `drift wipe … --blank SUBVOL` (or
// --blank=SUBVOL) in a stage-1 hook or unit; "" when none is known.
func (i *Initrd) WipeBlank() Str {
	if i.DriftWipeBlank.Value != "" {
		return i.DriftWipeBlank
	}
	texts := make([]Str, 0, len(i.Hooks)+len(i.Units))
	for _, h := range i.Hooks {
		texts = append(texts, Str{h.Text, h.Pos})
	}
	for _, u := range i.Units {
		texts = append(texts, Str{u.Text, u.Pos})
	}
	for _, t := range texts {
		for _, line := range strings.Split(t.Value, "\n") {
			f := strings.Fields(line)
			wipe := false
			for k, w := range f {
				w = strings.Trim(w, `'"`)
				switch {
				case w == "wipe" && k > 0 && strings.HasSuffix(strings.Trim(f[k-1], `'"`), "drift"):
					wipe = true
				case wipe && w == "--blank" && k+1 < len(f):
					return Str{strings.Trim(f[k+1], `'"`), t.Pos}
				case wipe && strings.HasPrefix(w, "--blank="):
					return Str{strings.TrimPrefix(w, "--blank="), t.Pos}
				}
			}
		}
	}
	return Str{}
}
