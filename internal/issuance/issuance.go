// Package issuance owns the pipeline that turns a request into an issued
// document: authorise → fetch through linkage only the fields the approved
// template declares → assemble → pre-issuance verification → render → sign →
// record → answer. A document that fails any step is not issued; a refusal
// is recorded as an alert.
//
// Package issuance never hands out an issuance number before its document is
// durably stored, never renders an agency answer about another subject, and
// never logs personal data.
package issuance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/guard"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/notify"
	"github.com/minwon/minwon/internal/render"
)

// Domain errors; the API maps each to one code.
var (
	ErrUnknownService = errors.New("no such service")
	ErrNotCertificate = errors.New("this service does not issue a document")
	ErrBadRequest     = errors.New("bad issuance request")
	ErrConflict       = errors.New("idempotency key already used for another request")
	ErrNotFound       = errors.New("no such issuance")
	// The counter's requests (see package counter).
	ErrNotAtCounter       = errors.New("this service cannot be issued at the counter")
	ErrIdentityNotChecked = errors.New("the citizen's identity document was not checked in person")
	ErrUnknownCitizen     = errors.New("no citizen or corporation is registered under this number")
	ErrPurposeHasRRN      = errors.New("the purpose may not contain a resident registration number")
)

// Request asks for one document.
type Request struct {
	Principal   auth.Principal
	Service     string
	Subject     string // "" = the requester
	ShowRRNBack bool
	// The other options of a resident registration document (form.Offers):
	// relations, the members' RRN back digits, past addresses.
	ShowRelations      bool
	ShowMemberRRNBack  bool
	ShowAddressHistory bool
	// The choices (form.Choices): the school level of an education
	// certificate ("" = the latest that qualifies) and the stated purpose
	// of a tax certificate.
	SchoolLevel    string
	Purpose        string
	IdempotencyKey string
	// Office is the issuing counter's office (서울특별시 관악구 행운동
	// 주민센터); empty on the portal.
	Office string
	// Use is what the issuance's audit record says beyond who asked, about
	// whom and what: the front end fills in what it knows (an official's
	// id, office, role and stated purpose; the caller's address). Empty
	// fields default to a portal citizen acting under the relation access
	// decided.
	Use audit.Event
}

// Issued is a stored document as the requester sees it.
type Issued struct {
	Number   Number
	Service  string
	Subject  string
	IssuedAt time.Time
	SHA256   string
	KeyID    string
	LogIndex int64 // position in the transparency log
}

// fetcher is the part of linkage the pipeline needs.
type fetcher interface {
	Fetch(ctx context.Context, purpose, agency, dataset, subject string, fields []string) (*linkage.Record, error)
}

// authorizer decides whether a principal may request a service for a subject.
type authorizer interface {
	Authorize(ctx context.Context, p auth.Principal, svc *form.Service, subject string) (form.Requester, error)
}

// logAppender appends to the transparency log; pre runs in the same
// transaction, so a document is stored if and only if it is logged.
type logAppender interface {
	Append(ctx context.Context, e doclog.Entry, pre func(doclog.Tx) error) (int64, error)
	AppendAll(ctx context.Context, es []doclog.Entry, pre func(doclog.Tx) error) (int64, error)
}

// logTx is what the pipeline writes inside the log's transaction. The log
// hands pre its Store's Tx; the store's Tx has these methods too.
// InsertIssuance returns an error matching ErrDuplicate for a collision.
type logTx interface {
	InsertIssuance(ctx context.Context, is Issuance) error
	HasLogEntry(ctx context.Context, number, kind string) (bool, error)
	// AppendAudit appends to the audit chain in the same transaction:
	// a document is stored if and only if its use is recorded.
	AppendAudit(ctx context.Context, e audit.Event) error
	// EnqueueNotice queues a notice in the same transaction: the subject
	// is told of an issuance to someone else if and only if it happened.
	notify.Queuer
	// SubjectOfIssuance is whom an issued document is about.
	SubjectOfIssuance(ctx context.Context, number string) (string, error)
}

// inLogTx runs fn with the log transaction as a logTx.
func inLogTx(fn func(logTx) error) func(doclog.Tx) error {
	return func(tx doclog.Tx) error {
		t, ok := tx.(logTx)
		if !ok {
			return fmt.Errorf("issuance: the log's store cannot store documents (%T)", tx)
		}
		return fn(t)
	}
}

// issuanceStore is what the pipeline needs from the database.
// Lookups of a missing issuance return an error matching ErrNotFound.
type issuanceStore interface {
	LogEntriesFor(ctx context.Context, number string) ([]doclog.Record, error)
	IssuanceByIdempotencyKey(ctx context.Context, login, key string) (Issuance, error)
	IssuanceVisibleTo(ctx context.Context, number, login, subject string, withBlobs bool) (Issuance, error)
	IssuancesOf(ctx context.Context, login string, limit int) ([]Logged, error)
	RecordAlert(ctx context.Context, a Alert) error
}

// auditRecorder records a use of personal data (an *audit.Log).
type auditRecorder interface {
	Record(ctx context.Context, e audit.Event) error
}

// limiter counts an action of a principal and refuses bulk access.
type limiter interface {
	Check(ctx context.Context, principal, action, subject string) error
}

// signers hands out the active document-signing key; it changes when the
// key is rotated.
type signers interface {
	Signer() docsig.Signer
}

// Served is the template version that serves one request.
type Served struct {
	Service *form.Service // the template, parsed
	Schema  *form.Schema  // the schema it must keep to
	Digest  string        // the digest it was approved under
	Canary  bool          // served as a canary: its outcome is reported
}

// Templates decides which approved template version serves a request (the
// active one, or a canary for a share of requests) and hears how canary
// requests went.
type Templates interface {
	// Serving returns the version for a request with this hash; false if
	// the service has no approved version.
	Serving(serviceID, requestHash string) (Served, bool)
	// Outcome reports a canary request: the number issued, or the error
	// that ended it.
	Outcome(ctx context.Context, served Served, number string, err error)
}

// Pipeline issues documents. Its fields are its collaborators; it keeps no
// per-request state.
type Pipeline struct {
	Catalog   *form.Catalog
	Templates Templates
	Links     fetcher
	Access    authorizer
	Renderer  *render.Renderer
	Keys      signers
	// DocumentCert is the PKI's document-signing certificate every PDF's
	// standard signature is made with.
	DocumentCert *docsig.Certificate
	Store        issuanceStore
	Log          logAppender
	Names        SubjectNamer // optional: names a revocation reason may not hold
	// Audit records downloads of a document by someone other than its
	// subject (issuances are recorded in their own transaction).
	Audit auditRecorder
	// Swaps, if set, opens an incident when agencies' answers are swapped
	// more often than it allows.
	Swaps *SwapWatch
	// Guard, if set, limits each login's issuances and downloads (a
	// *guard.Guard).
	Guard limiter
	// Metrics, if set, is told how each issuance ends (package metrics).
	Metrics   Observer
	VerifyURL string // base of the public verification page, e.g. https://minwon.example/verify
	// CheckCodes, if set, gives every document a document-check code,
	// printed next to its number and stored only as this keyed hash
	// (package checkcode); nil issues documents without one.
	CheckCodes *checkcode.Hasher
	Now        func() time.Time

	newNumber    func() Number                      // NewNumber unless a test fixes the numbers
	newCheckCode func(number string) checkcode.Code // random unless a test fixes the codes
}

// CatalogTemplates serves exactly the templates of a catalog, with no
// canary: for tests and tools that issue without governance.
type CatalogTemplates struct{ Catalog *form.Catalog }

// Serving implements Templates.
func (a CatalogTemplates) Serving(id, _ string) (Served, bool) {
	s := a.Catalog.Service(id)
	if s == nil {
		return Served{}, false
	}
	return Served{Service: s, Schema: a.Catalog.Schema(id), Digest: s.Digest}, true
}

// Outcome implements Templates.
func (CatalogTemplates) Outcome(context.Context, Served, string, error) {}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// checkCode draws the document-check code for number, if codes are on.
func (p *Pipeline) checkCode(number Number) (checkcode.Code, error) {
	switch {
	case p.CheckCodes == nil:
		return "", nil
	case p.newCheckCode != nil:
		return p.newCheckCode(string(number)), nil
	}
	return checkcode.New(nil)
}

func (p *Pipeline) number() Number {
	if p.newNumber != nil {
		return p.newNumber()
	}
	return NewNumber()
}

// requestHash identifies what was asked, to tell a retry from a reuse of
// the idempotency key for another request.
func requestHash(r Request, subject string) string {
	s := fmt.Sprintf("%s\x00%s\x00%t", r.Service, subject, r.ShowRRNBack)
	// The later options extend the hash only when ticked, so that a retry
	// of a request stored before they existed still matches.
	if r.ShowRelations || r.ShowMemberRRNBack || r.ShowAddressHistory {
		s += fmt.Sprintf("\x00relations=%t\x00member_rrn_back=%t\x00address_history=%t", r.ShowRelations, r.ShowMemberRRNBack, r.ShowAddressHistory)
	}
	if r.SchoolLevel != "" || r.Purpose != "" {
		s += fmt.Sprintf("\x00school_level=%s\x00purpose=%s", r.SchoolLevel, r.Purpose)
	}
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// options is what the request ticked.
func (r Request) options() Options {
	return Options{RRNBack: r.ShowRRNBack, Relations: r.ShowRelations, MemberRRNBack: r.ShowMemberRRNBack, AddressHistory: r.ShowAddressHistory,
		SchoolLevel: r.SchoolLevel, Purpose: r.Purpose}
}

// checkOptions refuses an option the service does not offer, or one that
// shows RRN back digits to a requester who is not in the household.
func checkOptions(svc *form.Service, o Options, relation form.Requester, forSelf bool) error {
	offered := svc.Offers(true)
	for _, t := range []struct {
		on   bool
		name string
	}{{o.Relations, form.OptionRelations}, {o.MemberRRNBack, form.OptionMemberRRNBack}, {o.AddressHistory, form.OptionAddressHistory}} {
		if t.on && !slices.Contains(offered, t.name) {
			return fmt.Errorf("%w: %s does not apply to %s", ErrBadRequest, t.name, svc.ID)
		}
	}
	if o.MemberRRNBack && !forSelf && relation != form.HouseholdMember {
		return fmt.Errorf("%w: show_member_rrn_back is only for members of the household", ErrBadRequest)
	}
	for key, v := range map[string]string{form.ChoiceSchoolLevel: o.SchoolLevel, form.ChoicePurpose: o.Purpose} {
		if err := svc.CheckChoice(key, v); err != nil {
			return fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	}
	return nil
}

// Issue runs the pipeline. Errors are ErrUnknownService, ErrNotCertificate,
// ErrBadRequest, ErrConflict, access.ErrForbidden, *RefusedError, or a
// linkage error (ErrUnavailable, ErrNotFound).
func (p *Pipeline) Issue(ctx context.Context, r Request) (done *Issued, err error) {
	if err := checkIdempotencyKey(r.IdempotencyKey); err != nil {
		return nil, err
	}
	svc := p.Catalog.Service(r.Service)
	if svc == nil {
		return nil, ErrUnknownService
	}
	// Counted only for a known service: the label set stays closed.
	if p.Metrics != nil {
		start, replayed := p.now(), false
		defer func() { p.Metrics.Issued(svc.ID, outcome(err, replayed), p.now().Sub(start)) }()
		ctx = context.WithValue(ctx, replayKey{}, &replayed)
	}
	if svc.Kind != form.Certificate {
		return nil, ErrNotCertificate
	}
	subject := r.Subject
	if subject == "" {
		subject = r.Principal.Subject
	}
	rh := requestHash(r, subject)
	if prev, err := p.Store.IssuanceByIdempotencyKey(ctx, r.Principal.Login, r.IdempotencyKey); err == nil {
		return p.sameRequest(ctx, prev, rh)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}

	// A retry of an issued request above is not counted; a new one is.
	if p.Guard != nil {
		if err := p.Guard.Check(ctx, r.Principal.Login, guard.Issuance, subject); err != nil {
			return nil, err
		}
	}
	served, ok := p.Templates.Serving(svc.ID, rh)
	if !ok {
		return nil, p.refused(ctx, r, svc, refuse(RuleTemplate, "%s has no approved template", svc.ID))
	}
	done, err = p.issueServed(ctx, r, served, subject, rh)
	if served.Canary {
		number := ""
		if done != nil {
			number = string(done.Number)
		}
		p.Templates.Outcome(ctx, served, number, err)
	}
	return done, err
}

// issueServed issues the request with the served template version.
func (p *Pipeline) issueServed(ctx context.Context, r Request, served Served, subject, rh string) (*Issued, error) {
	prep := &prepared{req: r, svc: served.Service, schema: served.Schema, approved: served.Digest, subject: subject, requestHash: rh}
	if err := p.prepare(ctx, prep); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		done, err := p.issueAs(ctx, prep, p.number())
		if errors.Is(err, ErrDuplicate) {
			// Either a concurrent retry with the same key won the race, or
			// the random number was taken: tell which.
			if prev, perr := p.Store.IssuanceByIdempotencyKey(ctx, r.Principal.Login, r.IdempotencyKey); perr == nil {
				return p.sameRequest(ctx, prev, rh)
			}
			if attempt < 3 {
				continue
			}
		}
		return done, err
	}
}

// prepared is a request ready to be issued: authorised, its records fetched
// and its fields assembled, but without an issuance number yet.
type prepared struct {
	req         Request
	svc         *form.Service
	schema      *form.Schema // the schema svc must keep to
	subject     string
	requestHash string
	relation    form.Requester // under which the requester may have it
	approved    string         // digest of the approved, active template
	records     []*linkage.Record
	fields      []Field
	school      *linkage.SchoolRecord // the school an education certificate is from
	issuedAt    time.Time
}

// swapRefusal is the refusal of a validly signed answer to another request.
func swapRefusal() *RefusedError {
	return refuse(RuleSubject, "an agency answered with another request's data; the answer was discarded")
}

// prepare authorises the request, fetches exactly the template's fields and
// assembles them for print, filling in prep from its request, service and
// subject.
func (p *Pipeline) prepare(ctx context.Context, prep *prepared) error {
	r, svc, subject := prep.req, prep.svc, prep.subject
	relation, err := p.Access.Authorize(ctx, r.Principal, svc, subject)
	if err != nil {
		// Authorisation asks the registry about the requester's household;
		// a swapped answer there is the same incident as one for the
		// document's data, and is refused and reported the same way.
		if errors.Is(err, linkage.ErrMismatch) {
			return p.refused(ctx, r, svc, swapRefusal())
		}
		return err
	}
	if r.ShowRRNBack && !svc.OffersRRNBack(subjectAsks(subject, r.Principal.Subject, relation)) {
		return fmt.Errorf("%w: show_rrn_back is only for your own documents that carry an RRN", ErrBadRequest)
	}
	if err := checkOptions(svc, r.options(), relation, subjectAsks(subject, r.Principal.Subject, relation)); err != nil {
		return err
	}
	// The served version was checked against its schema when it was
	// submitted; it is checked again here, before any agency is asked,
	// because a version can reach the database by other ways than review.
	if err := form.Bind(svc, prep.schema); err != nil {
		return p.refused(ctx, r, svc, refuse(RuleSchema, "%v", err))
	}

	records, err := p.fetch(ctx, svc, FetchNeeds(svc, prep.schema), subject)
	if err != nil {
		if errors.Is(err, linkage.ErrMismatch) {
			return p.refused(ctx, r, svc, swapRefusal())
		}
		return err
	}
	byDataset := make(map[string]*linkage.Record, len(records))
	for _, rec := range records {
		byDataset[rec.Agency+"."+rec.Dataset] = rec
	}
	for _, rec := range records {
		if rec.Subject != subject {
			// Refused here already, as pre-issuance verification would:
			// no condition is decided on someone else's record.
			return p.refused(ctx, r, svc, refuse(RuleSubject, "the %s answered about another subject than requested", rec.Agency))
		}
	}
	if err := issuable(svc, prep.schema, byDataset); err != nil {
		return err
	}
	school, err := chooseSchool(svc, byDataset, r.SchoolLevel)
	if err != nil {
		return err
	}
	fields, err := assemble(svc, byDataset, subject, r.options(), school)
	if err != nil {
		return p.refused(ctx, r, svc, refuse(RuleUndeclared, "the agency data did not fit the template: %v", err))
	}
	prep.relation, prep.records, prep.fields, prep.school = relation, records, fields, school
	prep.issuedAt = p.now().UTC().Truncate(time.Millisecond)
	return nil
}

// issueAs issues the prepared document under number: render, pre-issuance
// verification, sign, then store and log in one transaction. A number
// already taken, or a concurrent retry that stored first, fails with
// ErrDuplicate.
func (p *Pipeline) issueAs(ctx context.Context, prep *prepared, number Number) (*Issued, error) {
	r, svc := prep.req, prep.svc
	doc := prep.document(number, p.VerifyURL)
	code, err := p.checkCode(number)
	if err != nil {
		return nil, err
	}
	doc.CheckCode = code
	out, err := p.Renderer.Render(toRender(doc))
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", svc.ID, err)
	}
	if err := verify(&check{
		service: svc, schema: prep.schema, approvedDigest: prep.approved, subject: prep.subject, requester: r.Principal.Subject,
		relation: prep.relation, opts: r.options(), records: prep.records, doc: doc, rendered: out.Text,
	}); err != nil {
		var re *RefusedError
		if errors.As(err, &re) {
			return nil, p.refused(ctx, r, svc, re)
		}
		return nil, err
	}
	is, err := p.sign(prep, doc, out.PDF)
	if err != nil {
		return nil, err
	}
	// The number is handed out only after the document and its log
	// entry are durable, together.
	entry := doclog.Entry{Kind: doclog.KindIssued, Number: is.Number, Service: is.Service, KeyID: is.KeyID, SHA256: is.PDFSHA256, Time: is.IssuedAt}
	// The insert runs in the log's shared transaction: a cancelled
	// client must not interrupt it (SQLite would roll the whole batch
	// back).
	txCtx := context.WithoutCancel(ctx)
	use, err := p.useOf(ctx, prep, is.Number)
	if err != nil {
		return nil, err
	}
	notice, tell := p.issuedNotice(prep, is)
	appendStart := p.now()
	idx, err := p.Log.Append(ctx, entry, inLogTx(func(tx logTx) error {
		if err := tx.InsertIssuance(txCtx, is); err != nil {
			return err
		}
		if err := tx.AppendAudit(txCtx, use); err != nil {
			return err
		}
		if tell {
			return tx.EnqueueNotice(txCtx, notice, notice.At)
		}
		return nil
	}))
	if err != nil {
		return nil, err
	}
	if p.Metrics != nil {
		p.Metrics.LogAppended(p.now().Sub(appendStart))
	}
	done := issued(is)
	done.LogIndex = idx
	return done, nil
}

// document is the prepared document under number, verifiable at
// verifyURL/number.
func (prep *prepared) document(number Number, verifyURL string) *Document {
	svc := prep.svc
	return &Document{
		Number:         string(number),
		Service:        svc.ID,
		ServiceVersion: svc.Version,
		TemplateDigest: svc.Digest,
		Title:          svc.Title,
		TitleKo:        svc.TitleKo,
		Subject:        prep.subject,
		IssuedAt:       prep.issuedAt,
		Verify:         verifyURL + "/" + string(number),
		Fields:         prep.fields,
		ValidUntil:     validUntil(prep.schema, prep.issuedAt),
		Issuer:         issuerOf(svc, prep.req.Office, prep.school),
		Statement:      svc.StatementKo,
		Purpose:        purposeOf(svc, prep.req.Purpose),
	}
}

// purposeOf is the purpose a certificate that states one prints, in both
// languages; "" for other certificates.
func purposeOf(svc *form.Service, code string) string {
	if !svc.StatesPurpose {
		return ""
	}
	v, ok := form.ChoiceLabel(form.Purposes, code)
	if !ok {
		v = form.PurposeUnstated
	}
	return v.LabelKo + " (" + v.Label + ")"
}

// issuerOf names the authority that issues svc's document: the template's,
// or at a counter, for services issued in the office's name, the head of
// the office (서울특별시 관악구 행운동 주민센터 → 서울특별시 관악구 행운동장).
// An education certificate is its school's, issued by the school's head.
func issuerOf(svc *form.Service, office string, school *linkage.SchoolRecord) string {
	if school != nil {
		return schoolHead(school)
	}
	if svc.IssuerAtCounter != "office" || office == "" {
		return svc.IssuerKo
	}
	for _, suffix := range []string{" 주민센터", " 행정복지센터", "주민센터", "행정복지센터"} {
		if head, ok := strings.CutSuffix(office, suffix); ok && head != "" {
			return head + "장"
		}
	}
	return office + "장"
}

// kst is Korea's time zone, in which validity periods count days.
var kst = time.FixedZone("KST", 9*60*60)

// validUntil is the last day a document issued at is valid, as
// YYYY-MM-DD, when its schema sets a validity; "" otherwise.
func validUntil(sch *form.Schema, at time.Time) string {
	if sch == nil || sch.ValidDays <= 0 {
		return ""
	}
	// Issued on day 1, valid through day ValidDays.
	return at.In(kst).AddDate(0, 0, sch.ValidDays-1).Format("2006-01-02")
}

// sign signs the rendered PDF and data.json of doc with the active key and
// returns the issuance to store.
func (p *Pipeline) sign(prep *prepared, doc *Document, rendered []byte) (Issuance, error) {
	r, svc := prep.req, prep.svc
	signer := p.Keys.Signer()
	signer.Cert = p.DocumentCert
	pdf, err := signer.SignPDF(doc.Number, rendered)
	if err != nil {
		return Issuance{}, err
	}
	sum := sha256.Sum256(pdf)
	data, err := signer.SignData(dataDocument{Document: doc, PDFSHA256: hex.EncodeToString(sum[:]), KeyID: signer.KeyID})
	if err != nil {
		return Issuance{}, err
	}
	var codeSum string
	if doc.CheckCode != "" {
		codeSum = p.CheckCodes.Sum(doc.Number, doc.CheckCode)
	}
	return Issuance{
		CheckCodeHash: codeSum,
		Number:        doc.Number, RequesterLogin: r.Principal.Login, RequesterSubject: r.Principal.Subject,
		Subject: prep.subject, Service: svc.ID, TemplateVersion: svc.Version, TemplateDigest: svc.Digest,
		IssuedAt: prep.issuedAt, PDFSHA256: hex.EncodeToString(sum[:]), KeyID: signer.KeyID,
		PDF: pdf, DataJSON: data, IdempotencyKey: r.IdempotencyKey, RequestHash: prep.requestHash,
	}, nil
}

// dataDocument is the signed body of data.json.
type dataDocument struct {
	*Document
	PDFSHA256 string `json:"pdf_sha256"`
	KeyID     string `json:"key_id"`
}

func (p *Pipeline) sameRequest(ctx context.Context, prev Issuance, rh string) (*Issued, error) {
	if prev.RequestHash != rh {
		return nil, ErrConflict
	}
	if replayed, ok := ctx.Value(replayKey{}).(*bool); ok {
		*replayed = true
	}
	return p.withLogIndex(ctx, prev)
}

// withLogIndex looks up where the issuance stands in the log.
func (p *Pipeline) withLogIndex(ctx context.Context, is Issuance) (*Issued, error) {
	entries, err := p.Store.LogEntriesFor(ctx, is.Number)
	if err != nil {
		return nil, err
	}
	out := issued(is)
	out.LogIndex = -1
	for _, e := range entries {
		if e.Kind == doclog.KindIssued {
			out.LogIndex = e.Index
		}
	}
	if out.LogIndex < 0 {
		// Stored and logged happen in one transaction; this cannot be.
		return nil, fmt.Errorf("issuance %s is stored but not logged", is.Number)
	}
	return out, nil
}

func issued(is Issuance) *Issued {
	return &Issued{Number: Number(is.Number), Service: is.Service, Subject: is.Subject, IssuedAt: is.IssuedAt, SHA256: is.PDFSHA256, KeyID: is.KeyID}
}

func checkIdempotencyKey(k string) error {
	if k == "" || len(k) > 128 {
		return fmt.Errorf("%w: an Idempotency-Key header of 1 to 128 characters is required", ErrBadRequest)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return fmt.Errorf("%w: the Idempotency-Key must be printable ASCII without spaces", ErrBadRequest)
		}
	}
	return nil
}

// fetch asks each agency dataset the service needs, in parallel, for
// exactly the template's fields, naming the service as the purpose.
func (p *Pipeline) fetch(ctx context.Context, svc *form.Service, needs []form.Need, subject string) ([]*linkage.Record, error) {
	records := make([]*linkage.Record, len(needs))
	errs := make([]error, len(needs))
	if len(needs) == 1 {
		records[0], errs[0] = p.Links.Fetch(ctx, svc.ID, needs[0].Agency, needs[0].Dataset, subject, needs[0].Fields)
	} else {
		var wg sync.WaitGroup
		for i, n := range needs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				records[i], errs[i] = p.Links.Fetch(ctx, svc.ID, n.Agency, n.Dataset, subject, n.Fields)
			}()
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return records, nil
}

// refused records the refusal as an alert and returns it.
func (p *Pipeline) refused(ctx context.Context, r Request, svc *form.Service, re *RefusedError) error {
	// The alert must be written even if the client has gone away.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := p.Store.RecordAlert(actx, Alert{At: p.now(), Kind: "pre_issuance_refusal:" + string(re.Rule), Service: svc.ID, RequesterLogin: r.Principal.Login, Detail: re.Message}); err != nil {
		return errors.Join(re, err)
	}
	if p.Metrics != nil {
		p.Metrics.Refused(string(re.Rule))
	}
	if re.Rule == RuleSubject {
		if _, err := p.Swaps.note(actx, svc.ID); err != nil {
			return errors.Join(re, err)
		}
	}
	return re
}

// Get returns an issuance the caller requested or is the subject of.
func (p *Pipeline) Get(ctx context.Context, pr auth.Principal, number string) (*Issued, error) {
	n, err := ParseNumber(number)
	if err != nil {
		return nil, ErrNotFound
	}
	is, err := p.Store.IssuanceVisibleTo(ctx, string(n), pr.Login, pr.Subject, false)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return p.withLogIndex(ctx, is)
}

// Files returns the signed PDF and data.json of an issuance the caller may see.
func (p *Pipeline) Files(ctx context.Context, pr auth.Principal, number string) (pdf, data []byte, err error) {
	n, err := ParseNumber(number)
	if err != nil {
		return nil, nil, ErrNotFound
	}
	if p.Guard != nil {
		if err := p.Guard.Check(ctx, pr.Login, guard.Download, ""); err != nil {
			return nil, nil, err
		}
	}
	is, err := p.Store.IssuanceVisibleTo(ctx, string(n), pr.Login, pr.Subject, true)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	if is.Subject != pr.Subject && p.Audit != nil {
		// Someone else's data leaves again: recorded before it does.
		e := audit.Event{ActorKind: audit.Citizen, Actor: pr.Login, Action: audit.ActDownload, Service: is.Service, Subject: is.Subject, Number: is.Number}
		if pr.Kind == auth.KindOfficial {
			e.ActorKind, e.Actor = audit.Official, strings.TrimPrefix(pr.Login, "official:")
		}
		if err := p.Audit.Record(ctx, e); err != nil {
			return nil, nil, err
		}
	}
	return is.PDF, is.DataJSON, nil
}

// List returns the caller's issued documents, newest first.
func (p *Pipeline) List(ctx context.Context, pr auth.Principal) ([]*Issued, error) {
	list, err := p.Store.IssuancesOf(ctx, pr.Login, 500)
	if err != nil {
		return nil, err
	}
	out := make([]*Issued, len(list))
	for i, l := range list {
		if l.LogIndex < 0 {
			// Stored and logged happen in one transaction; this cannot be.
			return nil, fmt.Errorf("issuance %s is stored but not logged", l.Number)
		}
		out[i] = issued(l.Issuance)
		out[i].LogIndex = l.LogIndex
	}
	return out, nil
}

// toRender lays a document out for the PDF renderer.
func toRender(d *Document) *render.Document {
	rd := &render.Document{
		Title:     d.TitleKo,
		Subtitle:  d.Title,
		Number:    Number(d.Number).Format(),
		IssuedAt:  d.IssuedAt,
		Issuer:    d.Issuer,
		Statement: d.Statement,
		VerifyURL: d.Verify,
		CheckCode: d.CheckCode.Format(),
		Notes: []string{
			"이 문서는 전자적으로 발급되었으며 발급번호 또는 QR 코드로 진위를 확인할 수 있습니다.",
			"This document was issued electronically; check it by its issuance number or the QR code.",
		},
	}
	if d.CheckCode != "" {
		rd.Notes = append(rd.Notes,
			"발급번호와 문서확인번호를 진위확인 페이지에 입력하면 발급된 원본 내용을 볼 수 있습니다.",
			"The issuance number and check code show the original on the verification page.")
	}
	if d.ValidUntil != "" {
		rd.Notes = append([]string{"유효기간: " + d.ValidUntil + "까지 (Valid until " + d.ValidUntil + ")"}, rd.Notes...)
	}
	main := render.Section{Heading: "기본 사항 (Particulars)"}
	for _, f := range d.Fields {
		if f.Table == nil {
			main.Rows = append(main.Rows, render.Row{Label: f.LabelKo + " " + f.Label, Value: f.Text})
		}
	}
	if d.Purpose != "" {
		main.Rows = append(main.Rows, render.Row{Label: "사용 목적 Purpose", Value: d.Purpose})
	}
	rd.Sections = append(rd.Sections, main)
	for _, f := range d.Fields {
		if f.Table != nil {
			rows := f.Table.Rows
			if len(rows) == 0 {
				empty := make([]string, len(f.Table.Columns))
				empty[0] = "해당 없음 (none)"
				rows = [][]string{empty}
			}
			rd.Sections = append(rd.Sections, render.Section{
				Heading: f.LabelKo + " (" + f.Label + ")",
				Table:   &render.Table{Columns: f.Table.Columns, Rows: rows},
			})
		}
	}
	return rd
}
