package issuance

// SetNumbers makes p hand out numbers from next, for the golden test
// (which runs outside the package: it needs package store, which imports
// this one).
func SetNumbers(p *Pipeline, next func() Number) { p.newNumber = next }
