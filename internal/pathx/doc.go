// Package pathx is path arithmetic on absolute slash-separated paths, done
// component by component and byte for byte: containment, the part below an
// ancestor, cleaning, and the order in which drift lists paths. It imports no
// drift package.
package pathx

import ()
