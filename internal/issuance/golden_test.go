package issuance_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/render"
	"github.com/minwon/minwon/internal/storetest"
	"github.com/minwon/minwon/internal/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedKeys always signs with one key made from a fixed seed.
type fixedKeys struct{ s docsig.Signer }

func (k fixedKeys) Signer() docsig.Signer { return k.s }

func seededKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// goldenCase is one request of the golden run.
type goldenCase struct {
	principal   auth.Principal
	subject     string
	showRRNBack bool
}

// goldenCases picks, from a fixed world, requesters that exercise every
// shape of data: a household head, someone with school records, someone in
// arrears, a household member asking for the head, corporations.
func goldenCases(w *population.World) []goldenCase {
	person := func(i int) auth.Principal {
		return auth.Principal{Login: "login-" + w.People[i].Subject, Subject: w.People[i].Subject, Kind: "person"}
	}
	var cases []goldenCase
	first := func(ok func(p *population.Person) bool) int {
		for i := range w.People {
			if ok(&w.People[i]) {
				return i
			}
		}
		return 0
	}
	head := first(func(p *population.Person) bool {
		return p.Relation == population.Head && len(w.Households[p.Household].Members) >= 3
	})
	cases = append(cases,
		goldenCase{principal: person(head)},
		goldenCase{principal: person(head), showRRNBack: true},
	)
	spouse := w.Households[w.People[head].Household].Members[1]
	cases = append(cases, goldenCase{principal: person(spouse), subject: w.People[head].Subject})
	graduate := first(func(p *population.Person) bool {
		return len(p.Schools) >= 2 && !p.Schools[len(p.Schools)-1].Graduated.IsZero()
	})
	pupil := first(func(p *population.Person) bool {
		return len(p.Schools) > 0 && p.Schools[len(p.Schools)-1].Graduated.IsZero()
	})
	arrears := first(func(p *population.Person) bool { return p.Tax.Arrears > 0 && len(p.Tax.Years) > 0 })
	cases = append(cases, goldenCase{principal: person(graduate)}, goldenCase{principal: person(pupil)}, goldenCase{principal: person(arrears)})
	for i := 0; i < 2 && i < len(w.Corporations); i++ {
		c := &w.Corporations[i]
		cases = append(cases, goldenCase{principal: auth.Principal{Login: "login-" + c.Subject, Subject: c.Subject, Kind: "corporate"}})
	}
	return cases
}

// fixedPipeline is an issuance pipeline over env's agencies with fixed keys
// and clock, on a fresh SQLite store.
func fixedPipeline(t *testing.T, env *agencytest.Env) (*issuance.Pipeline, *form.Catalog) {
	t.Helper()
	ctx := agencytest.Ctx(t)
	links := env.Client(t, linkage.Options{BreakerThreshold: 1 << 20})
	catalog, err := form.Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := render.New()
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Protect(t, storetest.SQLite(t).Open(t))
	log, err := doclog.Open(ctx, db, "golden/log", seededKey(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(log.Close)
	docKey := seededKey(1)
	// A fixed certificate, so that the signed PDFs are the same bytes on
	// every run (its ECDSA signatures are deterministic).
	docCert, err := docsig.LoadCertificate(filepath.Join("testdata", "document-signer.pem"), filepath.Join("testdata", "document-signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	codes, err := checkcode.NewHasher(bytes.Repeat([]byte{7}, checkcode.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	p := &issuance.Pipeline{
		CheckCodes:   codes,
		Catalog:      catalog,
		Templates:    issuance.CatalogTemplates{Catalog: catalog},
		Links:        links,
		Access:       access.NewResolver(links),
		Renderer:     renderer,
		Keys:         fixedKeys{docsig.Signer{KeyID: docsig.KeyID(docKey.Public().(ed25519.PublicKey)), Key: docKey}},
		DocumentCert: docCert,
		Store:        db,
		Log:          log,
		VerifyURL:    "https://minwon.example/verify",
		Now:          func() time.Time { return time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC) },
	}
	// Check codes follow from the number, so the PDFs are the same bytes
	// on every run.
	issuance.SetCheckCodes(p, fixedCheckCode)
	return p, catalog
}

// fixedCheckCode is the golden runs' check code for number.
func fixedCheckCode(number string) checkcode.Code {
	sum := sha256.Sum256([]byte("golden check code " + number))
	c, err := checkcode.New(bytes.NewReader(sum[:]))
	if err != nil {
		panic(err)
	}
	return c
}

// TestEveryoneGetsTheirDocuments: every citizen and corporation of a
// synthetic world is issued every document they may have, with random
// issuance numbers, the RRN's back digits shown or not. The pre-issuance
// RRN scanner fails closed, so this is what keeps it from refusing a
// legitimate birth date, student number, amount or issuance number.
func TestEveryoneGetsTheirDocuments(t *testing.T) {
	if testing.Short() {
		t.Skip("issues a few thousand documents")
	}
	ctx := agencytest.Ctx(t)
	env := agencytest.Start(t, 250, 777)
	p, catalog := fixedPipeline(t, env)
	var principals []auth.Principal
	for _, person := range env.World.People {
		principals = append(principals, auth.Principal{Login: "login-" + person.Subject, Subject: person.Subject, Kind: "person"})
	}
	for _, c := range env.World.Corporations {
		principals = append(principals, auth.Principal{Login: "login-" + c.Subject, Subject: c.Subject, Kind: "corporate"})
	}
	issued := 0
	for _, svc := range catalog.Services() {
		for i, pr := range principals {
			r := issuance.Request{Principal: pr, Service: svc.ID, ShowRRNBack: i%2 == 1, IdempotencyKey: fmt.Sprintf("%s-%d", svc.ID, i)}
			_, err := p.Issue(ctx, r)
			if re := (*issuance.RefusedError)(nil); errors.As(err, &re) {
				t.Errorf("%s for %s: %v", svc.ID, pr.Subject, re)
			}
			if err == nil {
				issued++
			}
		}
	}
	if issued < len(principals) {
		t.Fatalf("only %d documents issued for %d principals", issued, len(principals))
	}
}

// TestGoldenDocuments issues documents of every service for a fixed world
// with fixed keys, clock and issuance numbers, and compares the signed PDF
// (by hash) and data.json (in full) with testdata/golden-documents.txt.
// Any change to assembly, formatting, rendering or signing shows here; run
// with -update only for a change meant to alter issued documents.
func TestGoldenDocuments(t *testing.T) {
	env := agencytest.Start(t, 300, 20260101)
	p, catalog := fixedPipeline(t, env)
	var serial int
	issuance.SetNumbers(p, func() issuance.Number {
		serial++
		s := fmt.Sprintf("%015d", 100000000000000+serial)
		return issuance.Number(s + string(verify.NumberCheckDigit(s)))
	})
	ctx := agencytest.Ctx(t)

	var out bytes.Buffer
	for _, svc := range catalog.Services() {
		for i, c := range goldenCases(env.World) {
			r := issuance.Request{
				Principal: c.principal, Service: svc.ID, Subject: c.subject, ShowRRNBack: c.showRRNBack,
				IdempotencyKey: svc.ID + "-" + strconv.Itoa(i),
			}
			fmt.Fprintf(&out, "== %s #%d subject=%q show_rrn_back=%t\n", svc.ID, i, c.subject, c.showRRNBack)
			is, err := p.Issue(ctx, r)
			if err != nil {
				var re *issuance.RefusedError
				switch {
				case errors.As(err, &re):
					fmt.Fprintf(&out, "refused: %s: %s\n", re.Rule, re.Message)
				case errors.Is(err, issuance.ErrNotCertificate), errors.Is(err, issuance.ErrBadRequest), errors.Is(err, issuance.ErrNotIssuable),
					errors.Is(err, access.ErrForbidden), errors.Is(err, linkage.ErrNotFound):
					fmt.Fprintf(&out, "error: %v\n", err)
				default:
					t.Fatalf("%s #%d: %v", svc.ID, i, err)
				}
				continue
			}
			pdf, data, err := p.Files(ctx, r.Principal, string(is.Number))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(pdf)
			fmt.Fprintf(&out, "number %s\npdf_sha256 %s\n%s\n", is.Number, hex.EncodeToString(sum[:]), data)
		}
	}

	path := filepath.Join("testdata", "golden-documents.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("issued documents differ from %s:\n%s", path, firstDiff(want, out.Bytes()))
	}
}

// firstDiff shows the first line where got departs from want.
func firstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return fmt.Sprintf("line %d\nwant: %s\ngot:  %s", i+1, w, g)
		}
	}
	return "same lines, different bytes"
}
