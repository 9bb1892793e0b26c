package issuance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
)

// ErrNotIssuable marks a certificate the law does not allow now, or one
// that would certify nothing. It is not a fault and not a refusal of
// pre-issuance verification: the citizen is told why and what to do.
var ErrNotIssuable = errors.New("this certificate cannot be issued")

// NotIssuableError says which condition of the schema held.
type NotIssuableError struct {
	Service string
	Reason  string // form.ReasonTaxArrears or form.ReasonNothingToCertify
	Message string // why and what to do, from the schema
}

func (e *NotIssuableError) Error() string {
	return fmt.Sprintf("%s: %s", ErrNotIssuable, e.Message)
}

func (e *NotIssuableError) Is(target error) bool { return target == ErrNotIssuable }

// FetchNeeds is what issuing svc asks the agencies for: the template's
// fields and the fields its schema's conditions look at, which a template
// may leave off the page.
func FetchNeeds(svc *form.Service, sch *form.Schema) []form.Need {
	needs := svc.Needs()
	var sources []string
	if svc.PerSchool != "" {
		// The school is chosen from the school records, printed or not.
		sources = append(sources, linkage.Education+".student.school_records")
	}
	if sch != nil {
		for _, c := range sch.NotIssuedWhen {
			slot, _ := sch.Slot(c.Slot)
			sources = append(sources, slot.Source)
		}
	}
	for _, src := range sources {
		agency, dataset, field := splitSource(src)
		i := slices.IndexFunc(needs, func(n form.Need) bool { return n.Agency == agency && n.Dataset == dataset })
		if i < 0 {
			needs = append(needs, form.Need{Agency: agency, Dataset: dataset})
			i = len(needs) - 1
		}
		if !slices.Contains(needs[i].Fields, field) {
			needs[i].Fields = append(needs[i].Fields, field)
		}
	}
	return needs
}

// issuable checks the schema's conditions against the agency records.
func issuable(svc *form.Service, sch *form.Schema, byDataset map[string]*linkage.Record) error {
	if sch == nil {
		return nil
	}
	for _, c := range sch.NotIssuedWhen {
		slot, _ := sch.Slot(c.Slot)
		agency, dataset, field := splitSource(slot.Source)
		rec := byDataset[agency+"."+dataset]
		var raw json.RawMessage
		if rec != nil {
			raw = rec.Fields[field]
		}
		held, err := holds(c.Is, raw)
		if err != nil {
			return fmt.Errorf("%s: condition on %s: %w", svc.ID, c.Slot, err)
		}
		if held {
			return &NotIssuableError{Service: svc.ID, Reason: c.Reason, Message: c.Message}
		}
	}
	return nil
}

func holds(is string, raw json.RawMessage) (bool, error) {
	v := bytes.TrimSpace(raw)
	switch is {
	case "empty":
		s := string(v)
		return len(v) == 0 || s == "null" || s == "[]" || s == "{}" || s == `""`, nil
	case "nonzero":
		if len(v) == 0 || string(v) == "null" {
			return false, nil
		}
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			return false, fmt.Errorf("not a number: %w", err)
		}
		return strings.TrimLeft(strings.ReplaceAll(n.String(), ".", ""), "0-") != "", nil
	}
	return false, fmt.Errorf("unknown condition %q", is)
}
