// Package audit builds, once, the model of the machine that drift's
// commands read: the persistence declarations and where each came from,
// the mount table and the ignore rules, the view beneath the mount points
// (the root subvolume through a detached clone of its mount, or through the
// top level), the old roots of the last boots in real-time order (the
// first being the previous boot's root), the wipe verdict of this boot,
// and the classification of every path (diff.Check).
//
// A command in cmd/drift parses its flags into Options, calls Build, and
// renders the Model; none assembles a part of it itself, so no two commands
// see the machine differently. Build never prints: what it has to say
// before the model is complete (where the old roots are, that none was
// found) it passes to Options.Say as values, for the command to render.
//
// The model also holds the facts every command that writes refuses
// through, so that none decides them alone: Model.Unmounted (a persistent
// storage path that holds no copy now: not mounted as configured, or on
// the wiped root) and Model.Persisted (a declared path that showed its
// persistent copy at an old root's boot, whose old root holds only what
// lay beneath the mount).
//
// A command that needs only part of the model asks for that part, made by
// the same code: Options.Need (NeedMounts for drift adopt PATH…: the mounts
// and the view beneath them, no walk; NeedFacts for drift restore: no walk,
// no view, with the old root Options.From names), Compare (drift diff: the live mount table and each
// tree beneath its mounts, nothing classified), ListRoots (drift roots:
// the top level's old roots and the next wipe's plan, nothing walked).
package audit
