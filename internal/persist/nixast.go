package persist

// AST of the Nix subset the static reader understands. Every node knows the
// byte offset where it starts.
type node interface{ offset() int }

type (
	nIdent struct {
		off  int
		name string
	}
	nNum struct {
		off  int
		text string
	}
	// nStr is a string ("…" or ''…''), a URI, or a path literal; parts
	// alternate between literal text and interpolated expressions.
	nStr struct {
		off    int
		parts  []strPart
		isPath bool
	}
	// nList is a list. items holds, per item, the offset of its opening
	// '"' when the item is a plain string literal (no escape, no
	// interpolation: its value is the source's text between the quotes),
	// else -1-k for nodes[k]: a list of a million paths costs 4 bytes an
	// item, not a node and a string each.
	nList struct {
		off   int
		items []int32
		nodes []node
	}
	nAttrs struct {
		off      int
		rec      bool
		binds    []binding
		inherits []inherit
	}
	nLet struct {
		off      int
		binds    []binding
		inherits []inherit
		body     node
	}
	nWith struct {
		off       int
		env, body node
	}
	nAssert struct {
		off        int
		cond, body node
	}
	nIf struct {
		off                int
		cond, then, elseOf node
	}
	nFunc struct {
		off     int
		param   string // x: … or x@{…}: …
		formals []formal
		hasSet  bool // {…}: …
		body    node
	}
	nApp struct {
		off     int
		fn, arg node
	}
	nSelect struct {
		off  int
		e    node
		path []attrKey
		def  node // `or` default, may be nil
	}
	nHasAttr struct {
		off  int
		e    node
		path []attrKey
	}
	nBinop struct {
		off  int
		op   string
		l, r node
	}
	nUnary struct {
		off int
		op  string
		e   node
	}
)

type strPart struct {
	lit  string
	expr node // nil for literal text
}

type formal struct {
	name string
	def  node
}

// attrKey is one component of an attribute path: a static name, or a
// dynamic one (${e}, "${e}") in dyn.
type attrKey struct {
	off  int
	name string
	dyn  node
}

type binding struct {
	off  int
	path []attrKey
	val  node
}

type inherit struct {
	off   int
	from  node // nil for `inherit a b;`
	names []attrKey
}

func (n *nIdent) offset() int   { return n.off }
func (n *nNum) offset() int     { return n.off }
func (n *nStr) offset() int     { return n.off }
func (n *nList) offset() int    { return n.off }
func (n *nAttrs) offset() int   { return n.off }
func (n *nLet) offset() int     { return n.off }
func (n *nWith) offset() int    { return n.off }
func (n *nAssert) offset() int  { return n.off }
func (n *nIf) offset() int      { return n.off }
func (n *nFunc) offset() int    { return n.off }
func (n *nApp) offset() int     { return n.off }
func (n *nSelect) offset() int  { return n.off }
func (n *nHasAttr) offset() int { return n.off }
func (n *nBinop) offset() int   { return n.off }
func (n *nUnary) offset() int   { return n.off }
