package nix

import "strings"

// Kind is a (partly) evaluated declaration value: what the JSON reader
// decodes and what the static Nix reader evaluates to. Values the static
// reader cannot compute are vUnknown and say why.
type Kind uint8

const (
	KindUnknown Kind = iota
	KindNull
	KindBool
	KindNumber
	KindString
	KindList
	KindAttrs
	KindFunc
)

// String names the kind for messages ("a list", "an attribute set").
func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindBool:
		return "a boolean"
	case KindNumber:
		return "a number"
	case KindString:
		return "a string"
	case KindList:
		return "a list"
	case KindAttrs:
		return "an attribute set"
	case KindFunc:
		return "a function"
	}
	return "an unknown value"
}

// Value's one-byte fields come first, together: a million list items
// are 176 bytes each, not 208.
type Value struct {
	Kind Kind
	Bool bool
	// splice, on a vUnknown list item, marks it as standing for an unknown
	// number of items (`[ "/a" ] ++ extra`).
	Splice bool
	// built marks a set created for an attribute path (`a.b = …;`), into
	// which later paths through the same name are inserted.
	Built bool
	Off   int // byte offset of the expression in its source
	Str   string
	// items of a vList. An item that forces to a vUnknown with splice set
	// stands for an unknown number of items (`[ "/a" ] ++ extra`).
	Items []*Lazy
	// at, when set, stands for the items of a vList that holds string
	// literals without escapes: per item, the offset of a literal's opening
	// quote in the source, or -1-k for items[k]. The literals are made
	// into values one at a time (reader.each) or all at once when needed
	// (source.list): a list of a million paths is never a million values.
	At    []int32
	Attrs *Attrs
	// why a vUnknown could not be read, as a noun phrase: "the variable
	// `dirs`", "a list built by `map`".
	Why string
	// dynBody, on a vUnknown standing for a dynamic attribute name that
	// could not be read (`"/persist/${user}" = { … };`), is the attribute's
	// value, still readable; dynName is the name as written, with ${…}.
	DynBody *Lazy
	DynName string
	// text, on a vUnknown standing for a string with interpolations that
	// cannot be read, is the string with each of those written "${…}" (a
	// shell hook that runs `${pkgs.btrfs-progs}/bin/btrfs …`).
	Text string
	// relPath, on a vUnknown standing for a relative path literal
	// (./persist.nix), is the path as written.
	RelPath string
	// ImportPath, on a KindUnknown standing for `import PATH` (a path
	// literal, relative or absolute), is PATH as written: used as a
	// module, it is the module in that file.
	ImportPath string
	// conds are the offsets of lib.mkIf / lib.optionals calls that make this
	// value conditional.
	Conds []int
	Fn    *nFunc // KindFunc
	Env   *Env   // KindFunc
}

// Attrs is an ordered attribute set. unknown holds parts that could not be
// read: dynamic attribute names and merged definitions that are not sets.
type Attrs struct {
	Keys    []string
	ByName  map[string]*Attribute
	Unknown []*Value
}

// Attribute is one name of an Attrs with its definitions, in the order
// they were written (merged as the module system merges them).
type Attribute struct {
	Name string
	Off  int // offset of the name
	Defs []*Lazy
}

// NewAttrs returns an empty attribute set.
func NewAttrs() *Attrs { return &Attrs{ByName: make(map[string]*Attribute)} }

// Get returns the attribute name of a, or nil (also for a nil a).
func (a *Attrs) Get(name string) *Attribute {
	if a == nil {
		return nil
	}
	return a.ByName[name]
}

// Add adds l as a definition of name (written at offset off), after its
// earlier definitions, and returns the attribute.
func (a *Attrs) Add(name string, off int, l *Lazy) *Attribute {
	if at, ok := a.ByName[name]; ok {
		at.Defs = append(at.Defs, l)
		return at
	}
	at := &Attribute{Name: name, Off: off, Defs: []*Lazy{l}}
	a.ByName[name] = at
	a.Keys = append(a.Keys, name)
	return at
}

// Lazy is a value not yet computed (a Nix thunk) or an already known one.
type Lazy struct {
	Value *Value
	Node  Node
	Env   *Env
	Fn    func() *Value // computes the value instead of n
	Busy  bool
	// conds are added to the value once it is computed.
	Conds []int
}

// Known returns an already computed v as a Lazy.
func Known(v *Value) *Lazy { return &Lazy{Value: v} }

// UnknownAt returns a KindUnknown value at offset off, unknown because of
// why (a noun phrase).
func UnknownAt(off int, why string) *Value { return &Value{Kind: KindUnknown, Off: off, Why: why} }

// ListLen is the number of items of the vList v.
func ListLen(v *Value) int {
	if v.At != nil {
		return len(v.At)
	}
	return len(v.Items)
}

// Literal is the string between the quotes of the literal whose opening
// quote is at off (one without escapes: a slice of the text, not a copy).
func (s *Source) Literal(off int32) string {
	body := s.Text[off+1:]
	return body[:strings.IndexByte(body, '"')]
}

// List returns the items of the vList v, making its literals (v.at) into
// items first: in a .nix source, expressions evaluated as any other item
// is (counting towards the evaluator's budget); in JSON, known values.
func (s *Source) List(v *Value) []*Lazy {
	if v.At == nil {
		return v.Items
	}
	out := make([]*Lazy, len(v.At))
	for i, a := range v.At {
		switch {
		case a < 0:
			out[i] = v.Items[-1-a]
		case s.Nix:
			out[i] = &Lazy{Node: &nStr{Off: int(a), parts: litParts(s.Literal(a))}}
		default:
			out[i] = Known(&Value{Kind: KindString, Off: int(a), Str: s.Literal(a)})
		}
	}
	v.Items, v.At = out, nil
	return out
}
