package nix

// Node is a node of the AST of the Nix subset the static reader
// understands. Every node knows the byte offset where it starts.
type Node interface{ offset() int }

type (
	// Ident is a variable (`modulesPath`).
	Ident struct {
		Off  int
		Name string
	}
	nNum struct {
		Off  int
		Text string
	}
	// nStr is a string ("…" or ''…''), a URI, or a path literal; parts
	// alternate between literal text and interpolated expressions.
	nStr struct {
		Off    int
		parts  []strPart
		isPath bool
	}
	// nList is a list. items holds, per item, the offset of its opening
	// '"' when the item is a plain string literal (no escape, no
	// interpolation: its value is the source's text between the quotes),
	// else -1-k for nodes[k]: a list of a million paths costs 4 bytes an
	// item, not a node and a string each.
	nList struct {
		Off   int
		Items []int32
		nodes []Node
	}
	nAttrs struct {
		Off int
		rec bool
		// legacyLet: `let { … }`, whose value is its body attribute,
		// not the set.
		legacyLet bool
		binds     []binding
		inherits  []inherit
	}
	nLet struct {
		Off      int
		binds    []binding
		inherits []inherit
		body     Node
	}
	nWith struct {
		Off       int
		Env, body Node
	}
	nAssert struct {
		Off        int
		cond, body Node
	}
	nIf struct {
		Off                int
		cond, then, elseOf Node
	}
	nFunc struct {
		Off     int
		param   string // x: … or x@{…}: …
		formals []formal
		hasSet  bool // {…}: …
		body    Node
	}
	nApp struct {
		Off     int
		Fn, arg Node
	}
	nSelect struct {
		Off  int
		e    Node
		path []attrKey
		def  Node // `or` default, may be nil
	}
	nHasAttr struct {
		Off  int
		e    Node
		path []attrKey
	}
	// Binop is a binary operation (`modulesPath + "/profiles/qemu-guest.nix"`).
	Binop struct {
		Off  int
		Op   string
		L, R Node
	}
	nUnary struct {
		Off int
		Op  string
		e   Node
	}
)

type strPart struct {
	lit  string
	expr Node // nil for literal text
}

type formal struct {
	Off  int
	Name string
	def  Node
}

// attrKey is one component of an attribute path: a static name, or a
// dynamic one (${e}, "${e}") in dyn.
type attrKey struct {
	Off  int
	Name string
	dyn  Node
}

type binding struct {
	Off  int
	path []attrKey
	val  Node
}

type inherit struct {
	Off   int
	from  Node // nil for `inherit a b;`
	names []attrKey
}

func (n *Ident) offset() int    { return n.Off }
func (n *nNum) offset() int     { return n.Off }
func (n *nStr) offset() int     { return n.Off }
func (n *nList) offset() int    { return n.Off }
func (n *nAttrs) offset() int   { return n.Off }
func (n *nLet) offset() int     { return n.Off }
func (n *nWith) offset() int    { return n.Off }
func (n *nAssert) offset() int  { return n.Off }
func (n *nIf) offset() int      { return n.Off }
func (n *nFunc) offset() int    { return n.Off }
func (n *nApp) offset() int     { return n.Off }
func (n *nSelect) offset() int  { return n.Off }
func (n *nHasAttr) offset() int { return n.Off }
func (n *Binop) offset() int    { return n.Off }
func (n *nUnary) offset() int   { return n.Off }

// children calls f with each expression below n that is not one of an
// attribute set's or a let's bindings (each walk has its own rule for
// those), in source order, with tail true for those whose value n's value
// may be or hold: a list's item, the body of a let, with, assert or
// function, an if's branch, an application's argument, a select's `or`
// default, an operand. The others are a string's interpolations, a
// with's environment, a condition, a default argument, a function, the
// set selected from and a dynamic key in a select or `?`. The walks of
// the reader (checkDuplicates, Literals) share it, so that a node they do
// not look into is one they chose. f is never given nil: an absent `or`
// default, default argument or static key is skipped.
func children(n Node, f func(c Node, tail bool)) {
	switch n := n.(type) {
	case *nStr:
		for _, pt := range n.parts {
			visitChild(f, pt.expr, false)
		}
	case *nList:
		for _, it := range n.nodes {
			f(it, true)
		}
	case *nLet:
		f(n.body, true)
	case *nWith:
		f(n.Env, false)
		f(n.body, true)
	case *nAssert:
		f(n.cond, false)
		f(n.body, true)
	case *nIf:
		f(n.cond, false)
		f(n.then, true)
		f(n.elseOf, true)
	case *nFunc:
		for _, fm := range n.formals {
			visitChild(f, fm.def, false)
		}
		f(n.body, true)
	case *nApp:
		f(n.Fn, false)
		f(n.arg, true)
	case *nSelect:
		f(n.e, false)
		visitKeys(f, n.path)
		visitChild(f, n.def, true)
	case *nHasAttr:
		f(n.e, false)
		visitKeys(f, n.path)
	case *Binop:
		f(n.L, true)
		f(n.R, true)
	case *nUnary:
		f(n.e, true)
	}
}

// visitChild calls f with c unless c is nil (an optional part).
func visitChild(f func(Node, bool), c Node, tail bool) {
	if c != nil {
		f(c, tail)
	}
}

// visitKeys calls f with the dynamic keys of path.
func visitKeys(f func(Node, bool), path []attrKey) {
	for _, k := range path {
		visitChild(f, k.dyn, false)
	}
}
