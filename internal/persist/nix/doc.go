// Package nix is the Nix interpreter drift's static reader runs: a lexer,
// parser and AST of the Nix subset module files use, and an evaluator to
// values (Value) that reads what it can without running Nix and says why
// about what it cannot (KindUnknown), within bounded steps and depth.
package nix
