package suggest

import "github.com/nix-drift/drift/internal/knowledge"

// Fact is a knowledge base entry (knowledge.Fact).
type Fact = knowledge.Fact

// Knowledge is the knowledge base (knowledge.Knowledge).
type Knowledge = knowledge.Knowledge

// Builtin returns the knowledge base embedded in drift (knowledge.Builtin).
func Builtin() *Knowledge { return knowledge.Builtin() }

// ParseKnowledge reads a knowledge base (knowledge.Parse).
func ParseKnowledge(data []byte) (*Knowledge, error) { return knowledge.Parse(data) }
