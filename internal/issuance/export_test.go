package issuance

import "github.com/minwon/minwon/internal/checkcode"

// SetNumbers makes p hand out numbers from next, for the golden test
// (which runs outside the package: it needs package store, which imports
// this one).
func SetNumbers(p *Pipeline, next func() Number) { p.newNumber = next }

// SetCheckCodes makes p draw document-check codes from next, so that the
// golden documents are the same bytes on every run.
func SetCheckCodes(p *Pipeline, next func(number string) checkcode.Code) { p.newCheckCode = next }
