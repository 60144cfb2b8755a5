package persist

import "strings"

// value is a (partly) evaluated declaration value: what the JSON reader
// decodes and what the static Nix reader evaluates to. Values the static
// reader cannot compute are vUnknown and say why.
type vkind uint8

const (
	vUnknown vkind = iota
	vNull
	vBool
	vNumber
	vString
	vList
	vAttrs
	vFunc
)

func (k vkind) String() string {
	switch k {
	case vNull:
		return "null"
	case vBool:
		return "a boolean"
	case vNumber:
		return "a number"
	case vString:
		return "a string"
	case vList:
		return "a list"
	case vAttrs:
		return "an attribute set"
	case vFunc:
		return "a function"
	}
	return "an unknown value"
}

// value's one-byte fields come first, together: a million list items
// are 176 bytes each, not 208.
type value struct {
	kind vkind
	b    bool
	// splice, on a vUnknown list item, marks it as standing for an unknown
	// number of items (`[ "/a" ] ++ extra`).
	splice bool
	// built marks a set created for an attribute path (`a.b = …;`), into
	// which later paths through the same name are inserted.
	built bool
	off   int // byte offset of the expression in its source
	str   string
	// items of a vList. An item that forces to a vUnknown with splice set
	// stands for an unknown number of items (`[ "/a" ] ++ extra`).
	items []*lazy
	// at, when set, stands for the items of a vList that holds string
	// literals without escapes: per item, the offset of a literal's opening
	// quote in the source, or -1-k for items[k]. The literals are made
	// into values one at a time (reader.each) or all at once when needed
	// (source.list): a list of a million paths is never a million values.
	at    []int32
	attrs *attrs
	// why a vUnknown could not be read, as a noun phrase: "the variable
	// `dirs`", "a list built by `map`".
	why string
	// dynBody, on a vUnknown standing for a dynamic attribute name that
	// could not be read (`"/persist/${user}" = { … };`), is the attribute's
	// value, still readable; dynName is the name as written, with ${…}.
	dynBody *lazy
	dynName string
	// text, on a vUnknown standing for a string with interpolations that
	// cannot be read, is the string with each of those written "${…}" (a
	// shell hook that runs `${pkgs.btrfs-progs}/bin/btrfs …`).
	text string
	// relPath, on a vUnknown standing for a relative path literal
	// (./persist.nix), is the path as written.
	relPath string
	// conds are the offsets of lib.mkIf / lib.optionals calls that make this
	// value conditional.
	conds []int
	fn    *nFunc // vFunc
	env   *env   // vFunc
}

// attrs is an ordered attribute set. unknown holds parts that could not be
// read: dynamic attribute names and merged definitions that are not sets.
type attrs struct {
	keys    []string
	m       map[string]*attr
	unknown []*value
}

type attr struct {
	name string
	off  int // offset of the name
	defs []*lazy
}

func newAttrs() *attrs { return &attrs{m: make(map[string]*attr)} }

func (a *attrs) get(name string) *attr {
	if a == nil {
		return nil
	}
	return a.m[name]
}

func (a *attrs) add(name string, off int, l *lazy) *attr {
	if at, ok := a.m[name]; ok {
		at.defs = append(at.defs, l)
		return at
	}
	at := &attr{name: name, off: off, defs: []*lazy{l}}
	a.m[name] = at
	a.keys = append(a.keys, name)
	return at
}

// lazy is a value not yet computed (a Nix thunk) or an already known one.
type lazy struct {
	v    *value
	n    node
	env  *env
	fn   func() *value // computes the value instead of n
	busy bool
	// conds are added to the value once it is computed.
	conds []int
}

func known(v *value) *lazy { return &lazy{v: v} }

func unknownAt(off int, why string) *value { return &value{kind: vUnknown, off: off, why: why} }

// listLen is the number of items of the vList v.
func listLen(v *value) int {
	if v.at != nil {
		return len(v.at)
	}
	return len(v.items)
}

// literal is the string between the quotes of the literal whose opening
// quote is at off (one without escapes: a slice of the text, not a copy).
func (s *source) literal(off int32) string {
	body := s.text[off+1:]
	return body[:strings.IndexByte(body, '"')]
}

// list returns the items of the vList v, making its literals (v.at) into
// items first: in a .nix source, expressions evaluated as any other item
// is (counting towards the evaluator's budget); in JSON, known values.
func (s *source) list(v *value) []*lazy {
	if v.at == nil {
		return v.items
	}
	out := make([]*lazy, len(v.at))
	for i, a := range v.at {
		switch {
		case a < 0:
			out[i] = v.items[-1-a]
		case s.nix:
			out[i] = &lazy{n: &nStr{off: int(a), parts: litParts(s.literal(a))}}
		default:
			out[i] = known(&value{kind: vString, off: int(a), str: s.literal(a)})
		}
	}
	v.items, v.at = out, nil
	return out
}
