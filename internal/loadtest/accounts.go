package loadtest

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/population"
)

// Account is one row of demo-accounts.csv.
type Account struct {
	Login, Password, Subject, Name, BirthDate, Kind string
}

// ReadAccounts reads a demo-accounts.csv file.
func ReadAccounts(path string) ([]Account, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseAccounts(f)
}

func parseAccounts(r io.Reader) ([]Account, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	want := []string{"login", "password", "subject", "name", "birth_date", "kind"}
	if len(head) < len(want) {
		return nil, fmt.Errorf("accounts: header %v, want %v", head, want)
	}
	for i, w := range want {
		if head[i] != w {
			return nil, fmt.Errorf("accounts: header %v, want %v", head, want)
		}
	}
	var out []Account
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		out = append(out, Account{Login: rec[0], Password: rec[1], Subject: rec[2], Name: rec[3], BirthDate: rec[4], Kind: rec[5]})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("accounts: no accounts")
	}
	return out, nil
}

// Subjects indexes what the accounts file says about every subject, adding
// the corporations' registration numbers from world when it is not nil
// (the accounts file does not carry them).
func Subjects(accounts []Account, world *population.World) map[string]Subject {
	m := make(map[string]Subject, len(accounts))
	for _, a := range accounts {
		m[a.Subject] = Subject{ID: a.Subject, Kind: a.Kind, Name: a.Name, BirthDate: a.BirthDate}
	}
	if world != nil {
		for i := range world.Corporations {
			c := &world.Corporations[i]
			s, ok := m[c.Subject]
			if !ok {
				s = Subject{ID: c.Subject, Kind: "corporate", Name: c.Name}
			}
			s.BusinessNumber = ident.FormatBusinessNumber(c.BusinessNumber)
			s.CorporateNumber = ident.FormatCorporateNumber(c.CorporateNumber)
			m[c.Subject] = s
		}
	}
	return m
}
