package demo

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/pki"
)

// OfficialRow is one line of demo-officials.csv: the official and the
// certificate and key files, relative to the data directory.
type OfficialRow struct {
	pki.Official
	Cert, Key string
}

// demoOfficials are the officials a demo seeds: two counter clerks at each
// of three community centres, and the central operators, privacy officer
// and auditor.
var demoOfficials = []pki.Official{
	{ID: "c0001", Name: "박서연", Office: "서울특별시 관악구 행운동 주민센터", Role: pki.CounterClerk},
	{ID: "c0002", Name: "이도윤", Office: "서울특별시 관악구 행운동 주민센터", Role: pki.CounterClerk},
	{ID: "c0003", Name: "최하은", Office: "서울특별시 관악구 청룡동 주민센터", Role: pki.CounterClerk},
	{ID: "c0004", Name: "정민재", Office: "서울특별시 관악구 청룡동 주민센터", Role: pki.CounterClerk},
	{ID: "c0005", Name: "강지우", Office: "부산광역시 해운대구 우1동 행정복지센터", Role: pki.CounterClerk},
	{ID: "c0006", Name: "윤서준", Office: "부산광역시 해운대구 우1동 행정복지센터", Role: pki.CounterClerk},
	{ID: "op001", Name: "한예린", Office: "행정안전부 minwon 운영센터", Role: pki.Operator},
	{ID: "op002", Name: "오준서", Office: "행정안전부 minwon 운영센터", Role: pki.Operator},
	{ID: "op003", Name: "서지아", Office: "행정안전부 minwon 운영센터", Role: pki.Operator},
	{ID: "pr001", Name: "임채원", Office: "행정안전부 개인정보보호담당관실", Role: pki.PrivacyOfficer},
	{ID: "au001", Name: "신동현", Office: "행정안전부 감사관실", Role: pki.Auditor},
}

// retiredCertificates is how many superseded certificates the demo CA
// lists in its CRL, so the CRL has the size of a CA with a history.
const retiredCertificates = 200

// PreparePKI creates the demo's simulated GPKI under DIR/pki on first
// start, issues the seeded officials' certificates and writes
// demo-officials.csv; on later starts it opens what is there.
func PreparePKI(dir string, progress io.Writer) (*pki.Authority, []OfficialRow, error) {
	d := datadir.Dir(dir)
	fresh := false
	if _, err := os.Stat(filepath.Join(d.PKI(), pki.RootCertFile)); errors.Is(err, os.ErrNotExist) {
		fresh = true
		fmt.Fprintf(progress, "pki: creating the simulated GPKI (root, ministry CA, OCSP responder) in %s\n", d.PKI())
	}
	start := time.Now()
	ca, err := pki.Init(d.PKI())
	if err != nil {
		return nil, nil, err
	}
	if err := ca.SeedHistory(retiredCertificates); err != nil {
		return nil, nil, err
	}
	if rows, err := ReadOfficials(dir); err == nil {
		return ca, rows, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	issued := map[string]bool{}
	for _, e := range ca.Entries() {
		if e.Official != nil && e.RevokedAt.IsZero() {
			issued[e.Official.ID] = true
		}
	}
	var rows []OfficialRow
	for _, o := range demoOfficials {
		base := filepath.Join("pki", "officials", o.ID)
		if !issued[o.ID] {
			if _, err := ca.IssueOfficial(o); err != nil {
				return nil, nil, fmt.Errorf("demo: official %s: %w", o.ID, err)
			}
		}
		rows = append(rows, OfficialRow{Official: o, Cert: base + ".pem", Key: base + ".key"})
	}
	if err := writeOfficials(d.Officials(), rows); err != nil {
		return nil, nil, err
	}
	if fresh {
		fmt.Fprintf(progress, "pki: %d officials' certificates issued in %s\n", len(rows), time.Since(start).Round(time.Millisecond))
	}
	return ca, rows, nil
}

func writeOfficials(path string, rows []OfficialRow) error {
	recs := make([][]string, len(rows))
	for i, r := range rows {
		recs[i] = []string{r.ID, r.Name, r.Office, string(r.Role), r.Cert, r.Key}
	}
	return writeCSV(path, []string{"id", "name", "office", "role", "cert", "key"}, recs)
}

// ReadOfficials reads DIR/demo-officials.csv.
func ReadOfficials(dir string) ([]OfficialRow, error) {
	f, err := os.Open(datadir.Dir(dir).Officials())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("demo: demo-officials.csv: %w", err)
	}
	if len(recs) == 0 || len(recs[0]) != 6 || recs[0][0] != "id" {
		return nil, errors.New("demo: demo-officials.csv has no id,name,office,role,cert,key header")
	}
	var rows []OfficialRow
	for _, r := range recs[1:] {
		if len(r) != 6 {
			return nil, errors.New("demo: demo-officials.csv: a row without six columns")
		}
		rows = append(rows, OfficialRow{Official: pki.Official{ID: r[0], Name: r[1], Office: r[2], Role: pki.Role(r[3])}, Cert: r[4], Key: r[5]})
	}
	return rows, nil
}

// FindOfficial returns the row of official id, with absolute file paths.
func FindOfficial(dir, id string) (OfficialRow, error) {
	rows, err := ReadOfficials(dir)
	if err != nil {
		return OfficialRow{}, err
	}
	for _, r := range rows {
		if r.ID == id {
			r.Cert, r.Key = filepath.Join(dir, r.Cert), filepath.Join(dir, r.Key)
			return r, nil
		}
	}
	return OfficialRow{}, fmt.Errorf("demo: no official %q in %s", id, datadir.Dir(dir).Officials())
}
