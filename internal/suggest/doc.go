// Package suggest turns what drift check found — the lost set, its history
// across the last old roots — and a built-in knowledge base of known
// application state into a short ranked list of what to persist, what to
// ignore, and what lies in persistent storage undeclared (drift suggest).
package suggest
