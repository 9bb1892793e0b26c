package agency

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
)

// The registry's own records change: a move-in report (linkage.OpMoveIn)
// moves people to a new address and household. The generated world stays
// as it was seeded (other readers share it); the changes are kept beside it
// and every answer reads through them. With a journal file the registry
// keeps its changes across restarts, as the real register does: each
// applied write and its signed answer is appended and synced before the
// answer leaves, and replayed at the next start.

// moved is a person's registry entry after a move.
type moved struct {
	address   string
	history   []linkage.AddressEntry // oldest first, the new address last
	household int32
	relation  population.Relation
}

// household is a household formed or changed by a move.
type household struct {
	id      string
	head    int32
	members []int32 // head first
}

// writeAnswer is a write applied or refused, kept by request id.
type writeAnswer struct {
	reqHash [32]byte
	body    []byte
	sig     string
}

// changes are the registry's records changed since the world was seeded.
type changes struct {
	mu         sync.RWMutex
	people     map[int32]*moved
	households map[int32]*household // by index; indexes past the world's are new households
	nextHH     int32
	answers    map[string]writeAnswer // request id → the answer, repeated to every retry
	journal    *os.File
}

func (d *data) initChanges() {
	d.ch = &changes{people: map[int32]*moved{}, households: map[int32]*household{}, nextHH: int32(len(d.world.Households)), answers: map[string]writeAnswer{}}
}

// personAddress, personHistory, householdOf and relationOf read a person's
// registry entry through the changes; callers hold ch.mu for reading.
func (d *data) personAddress(i int) string {
	if m := d.ch.people[int32(i)]; m != nil {
		return m.address
	}
	return d.world.People[i].Address
}

func (d *data) personHistory(i int) []linkage.AddressEntry {
	if m := d.ch.people[int32(i)]; m != nil {
		return m.history
	}
	p := &d.world.People[i]
	out := make([]linkage.AddressEntry, len(p.AddressHistory))
	for k, a := range p.AddressHistory {
		out[k] = linkage.AddressEntry{Address: a.Address, MovedIn: a.MovedIn.Format(dateLayout), Change: change(p, a)}
	}
	return out
}

func (d *data) relationOf(i int) population.Relation {
	if m := d.ch.people[int32(i)]; m != nil {
		return m.relation
	}
	return d.world.People[i].Relation
}

func (d *data) householdIndex(i int) int32 {
	if m := d.ch.people[int32(i)]; m != nil {
		return m.household
	}
	return int32(d.world.People[i].Household)
}

// householdAt returns household h's id, head and members.
func (d *data) householdAt(h int32) household {
	if c := d.ch.households[h]; c != nil {
		return *c
	}
	w := &d.world.Households[h]
	members := make([]int32, len(w.Members))
	for k, m := range w.Members {
		members[k] = int32(m)
	}
	return household{id: w.ID, head: int32(w.Head), members: members}
}

// KeepChanges keeps the registry's changes in a journal under dir,
// created if needed; the other agencies take no writes and keep nothing.
func (s *Server) KeepChanges(dir string) error {
	if s.name != linkage.Registry {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("agency %s: %w", s.name, err)
	}
	return s.SetJournal(filepath.Join(dir, "registry-journal.jsonl"))
}

// SetJournal makes the registry keep its changes in the file at path:
// the writes it holds are replayed first (a restart), and every write from
// now on is appended and synced before it is answered.
func (s *Server) SetJournal(path string) error {
	if s.name != linkage.Registry {
		return fmt.Errorf("agency %s takes no writes", s.name)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("agency %s: journal: %w", s.name, err)
	}
	ch := s.data.ch
	ch.mu.Lock()
	defer ch.mu.Unlock()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e journalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// A line cut by a crash mid-append was never answered.
			break
		}
		if _, _, err := s.applyLocked(e.Request, e.At); err != nil {
			f.Close()
			return fmt.Errorf("agency %s: replay %s: %w", s.name, e.Request.RequestID, err)
		}
		ch.answers[e.Request.RequestID] = writeAnswer{reqHash: requestHash(e.Request), body: e.Body, sig: e.Sig}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return fmt.Errorf("agency %s: journal: %w", s.name, err)
	}
	ch.journal = f
	return nil
}

// journalEntry is one line of the journal.
type journalEntry struct {
	Request linkage.WriteRequest `json:"request"`
	At      time.Time            `json:"at"`
	Body    []byte               `json:"body"`
	Sig     string               `json:"sig"`
}

func requestHash(r linkage.WriteRequest) [32]byte {
	b, _ := json.Marshal(r)
	return sha256.Sum256(b)
}

// write answers POST /v1/write: registry writes only, each request id
// applied once and answered the same every time.
func (s *Server) write(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.name != linkage.Registry {
		writeError(w, http.StatusNotFound, "not_found", "this agency takes no writes")
		return
	}
	var req linkage.WriteRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "request must be JSON: "+err.Error())
		return
	}
	if len(req.RequestID) != 32 || req.Subject == "" || req.Operation != linkage.OpMoveIn {
		writeError(w, http.StatusBadRequest, "bad_request", "request_id (32 hex), subject and a known operation are required")
		return
	}
	if _, ok := s.catalog.PurposeNeeds(req.Purpose); !ok {
		writeError(w, http.StatusForbidden, "unknown_purpose", "no such purpose: "+req.Purpose)
		return
	}
	f := s.faults.Load()
	if !s.delay(r.Context(), f) {
		return
	}
	if s.errorSeq.hit(f.Error) {
		s.errored.Add(1)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "simulated failure")
		return
	}
	ans, err := s.applyWrite(req)
	if errors.Is(err, errRequestReused) {
		writeError(w, http.StatusConflict, "request_id_reused", err.Error())
		return
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the register could not be written")
		return
	}
	s.answered.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(linkage.SignatureHeader, ans.sig)
	w.WriteHeader(http.StatusOK)
	w.Write(ans.body)
}

var errRequestReused = errors.New("this request id was used for another request")

// applyWrite applies req once, or returns the answer it got before.
func (s *Server) applyWrite(req linkage.WriteRequest) (writeAnswer, error) {
	ch := s.data.ch
	ch.mu.Lock()
	defer ch.mu.Unlock()
	h := requestHash(req)
	if prev, ok := ch.answers[req.RequestID]; ok {
		if prev.reqHash != h {
			return writeAnswer{}, errRequestReused
		}
		return prev, nil
	}
	at := s.now().UTC().Truncate(time.Millisecond)
	result, refusal, err := s.applyLocked(req, at)
	if err != nil {
		return writeAnswer{}, err
	}
	resp := linkage.WriteResponse{Agency: s.name, RequestID: req.RequestID, Subject: req.Subject, Operation: req.Operation, Status: linkage.WriteApplied, Result: result, AnsweredAt: at}
	if refusal != nil {
		resp.Status, resp.Code, resp.Message, resp.Result = linkage.WriteRefused, refusal.code, refusal.msg, nil
	}
	body, err := json.Marshal(resp)
	if err != nil {
		return writeAnswer{}, err
	}
	ans := writeAnswer{reqHash: h, body: body, sig: s.signer.SignWrite(body)}
	if ch.journal != nil {
		line, err := json.Marshal(journalEntry{Request: req, At: at, Body: body, Sig: ans.sig})
		if err != nil {
			return writeAnswer{}, err
		}
		if _, err := ch.journal.Write(append(line, '\n')); err != nil {
			return writeAnswer{}, err
		}
		if err := ch.journal.Sync(); err != nil {
			return writeAnswer{}, err
		}
	}
	ch.answers[req.RequestID] = ans
	return ans, nil
}

// refusal is why the register refuses a write.
type refusal struct{ code, msg string }

// applyLocked applies req to the changes (ch.mu held) as of at: the
// result to answer, or the refusal; err only for a request that cannot be
// read at all. It is deterministic, so a journal replays to the same state.
func (s *Server) applyLocked(req linkage.WriteRequest, at time.Time) (json.RawMessage, *refusal, error) {
	var in linkage.MoveIn
	dec := json.NewDecoder(bytes.NewReader(req.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, &refusal{"bad_payload", "the move-in report could not be read"}, nil
	}
	res, ref := s.data.moveIn(req.Subject, in, at)
	if ref != nil {
		return nil, ref, nil
	}
	b, err := json.Marshal(res)
	return b, nil, err
}

// kst is the register's calendar: a date is a day in Korea.
var kst = time.FixedZone("KST", 9*60*60)

// moveIn moves reporter and the named members of their household to a new
// household at in.NewAddress (ch.mu held for writing).
func (d *data) moveIn(reporter string, in linkage.MoveIn, at time.Time) (*linkage.MoveInResult, *refusal) {
	ri, ok := d.people[reporter]
	if !ok {
		return nil, &refusal{"unknown_subject", "the registry has no record of the reporter"}
	}
	addr, err := linkage.ParseAddress(in.NewAddress)
	if err != nil {
		return nil, &refusal{"bad_address", err.Error()}
	}
	day, err := time.ParseInLocation(dateLayout, in.MovedIn, kst)
	if err != nil {
		return nil, &refusal{"bad_date", "the move-in date must be a date, YYYY-MM-DD"}
	}
	if day.After(at.In(kst)) {
		return nil, &refusal{"date_in_future", "the move-in date is in the future; report a move after it happened"}
	}
	oldIdx := d.householdIndex(int(ri))
	old := d.householdAt(oldIdx)
	reporterRel := d.relationOf(int(ri))
	movers := []int32{ri}
	for _, subj := range in.Members {
		mi, ok := d.people[subj]
		if !ok || !slices.Contains(old.members, mi) || mi == ri {
			return nil, &refusal{"not_in_household", "only members of your own household can move with you"}
		}
		if slices.Contains(movers, mi) {
			return nil, &refusal{"bad_payload", "a member is named twice"}
		}
		if reporterRel != population.Head && reporterRel != population.Spouse {
			return nil, &refusal{"not_allowed_to_move", "only the head of the household or their spouse may report a move for other members"}
		}
		movers = append(movers, mi)
	}
	for _, m := range movers {
		h := d.personHistory(int(m))
		if last := h[len(h)-1]; last.MovedIn > in.MovedIn {
			return nil, &refusal{"date_before_current", "the move-in date is before a current registration (" + last.MovedIn + ")"}
		}
		if d.personAddress(int(m)) == addr {
			return nil, &refusal{"same_address", "that is already the registered address"}
		}
	}
	// The new household, headed by the reporter.
	newIdx := d.ch.nextHH
	d.ch.nextHH++
	nh := &household{id: fmt.Sprintf("H%09d", newIdx+1), head: ri, members: movers}
	d.ch.households[newIdx] = nh
	for _, m := range movers {
		rel := d.relationOf(int(m))
		switch {
		case m == ri:
			rel = population.Head
		case reporterRel == population.Head:
			// The head's family moves with them as it was.
		case reporterRel == population.Spouse && rel == population.Child:
		case reporterRel == population.Spouse && rel == population.Head:
			rel = population.Spouse
		default:
			rel = population.Cohabitant
		}
		hist := append(slices.Clone(d.personHistory(int(m))), linkage.AddressEntry{Address: addr, MovedIn: in.MovedIn, Change: "전입"})
		d.ch.people[m] = &moved{address: addr, history: hist, household: newIdx, relation: rel}
	}
	// The household left behind: the movers leave it; if its head moved,
	// the spouse or else the eldest who stays heads it.
	var stay []int32
	for _, m := range old.members {
		if !slices.Contains(movers, m) {
			stay = append(stay, m)
		}
	}
	res := &linkage.MoveInResult{HouseholdID: nh.id, OldHouseholdID: old.id}
	for _, m := range movers {
		res.Moved = append(res.Moved, d.world.People[m].Subject)
	}
	if len(stay) > 0 {
		head := old.head
		if slices.Contains(movers, head) {
			head = stay[0]
			for _, m := range stay {
				if d.relationOf(int(m)) == population.Spouse {
					head = m
					break
				}
				if d.world.People[m].BirthDate.Before(d.world.People[head].BirthDate) {
					head = m
				}
			}
			e := d.ch.people[head]
			if e == nil {
				e = &moved{address: d.personAddress(int(head)), history: d.personHistory(int(head)), household: oldIdx}
				d.ch.people[head] = e
			}
			e.relation = population.Head
		}
		members := append([]int32{head}, slices.DeleteFunc(slices.Clone(stay), func(m int32) bool { return m == head })...)
		d.ch.households[oldIdx] = &household{id: old.id, head: head, members: members}
		if head != ri {
			res.OldHead = d.world.People[head].Subject
		}
	} else {
		d.ch.households[oldIdx] = &household{id: old.id, head: old.head}
	}
	return res, nil
}
