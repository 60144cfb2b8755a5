package main

import "testing"

func TestManText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain text\non two lines", "plain text\non two lines"},
		// An indented block right after a line becomes a code block after a
		// blank line; its lines, and blank lines inside it, keep their order.
		{"EXIT STATUS\n  0  ok\n  2  error", "EXIT STATUS\n\n    0  ok\n    2  error"},
		{"Categories:\n\n  a  one\n     more\n\n  b  two\nafter", "Categories:\n\n    a  one\n       more\n\n    b  two\nafter"},
	} {
		if got := manText(tt.in); got != tt.want {
			t.Errorf("manText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
