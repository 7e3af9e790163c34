package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/thor-trading/cutover-harness/harness/signoff"
)

// Gate decides whether a phase may start.
type Gate struct {
	Phases  Phases
	Ledger  *signoff.Ledger  // from signoff.ReadLedger; nil means no sign-offs
	Signers *signoff.Signers // the trusted signers; nil trusts no one
	// BaseDir is the directory report paths in the ledger are relative to
	// (the repository root); "" means the current directory.
	BaseDir string
}

// Kind classifies a Reason.
type Kind string

// Reasons a prerequisite is not satisfied, or a sign-off did not count.
const (
	NoSignOff        Kind = "no_signoff"        // no trusted sign-off for the phase
	ChainBroken      Kind = "chain_broken"      // the ledger's hash chain is broken
	Malformed        Kind = "malformed_line"    // a ledger line does not decode
	AfterBreak       Kind = "after_break"       // a sign-off at or after the chain break
	UnknownSigner    Kind = "unknown_signer"    // signer not in the signers file
	BadSignature     Kind = "bad_signature"     // forged, or edited after signing
	ReportMissing    Kind = "report_missing"    // the signed report file is gone
	ReportUnreadable Kind = "report_unreadable" // the report file cannot be read
	ReportChanged    Kind = "report_changed"    // the report's sha256 differs from the signed one
	NotPass          Kind = "not_pass"          // the report is not PASS and the sign-off has no waiver
)

// Reason is one reason, with where it was found.
type Reason struct {
	Kind    Kind   `json:"kind"`
	File    string `json:"file,omitempty"` // the ledger or the report it is about
	Line    int    `json:"line,omitempty"` // ledger line, from 1
	Message string `json:"message"`
}

func (r Reason) String() string { return r.Message }

// SignOff is the ledger entry that counts for a prerequisite.
type SignOff struct {
	Line         int       `json:"line"`
	Signer       string    `json:"signer"`
	Time         time.Time `json:"time"`
	Report       string    `json:"report"`
	ReportSHA256 string    `json:"report_sha256"`
	Verdict      string    `json:"verdict"`
	Waiver       string    `json:"waiver,omitempty"`
}

// Prerequisite is the state of one phase the checked phase requires.
type Prerequisite struct {
	Phase     string   `json:"phase"`
	Satisfied bool     `json:"satisfied"`
	SignOff   *SignOff `json:"signoff,omitempty"` // the latest trusted sign-off, if any
	Reasons   []Reason `json:"reasons,omitempty"` // why it is not satisfied
	// Ignored lists sign-offs for this phase that did not count although
	// the prerequisite is satisfied (untrusted lines, for instance).
	Ignored []Reason `json:"ignored,omitempty"`
}

// Waiver is a satisfied prerequisite whose report did not PASS.
type Waiver struct {
	Phase   string `json:"phase"`
	Line    int    `json:"line"`
	Signer  string `json:"signer"`
	Report  string `json:"report"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
}

// Result is the gate's answer for one phase.
type Result struct {
	Phase string `json:"phase"`
	// OK is true when every prerequisite is satisfied and the ledger's
	// chain is intact.
	OK     bool   `json:"ok"`
	Ledger string `json:"ledger"`
	// LedgerProblems are ledger-wide problems (a broken chain); any fails
	// the gate.
	LedgerProblems []Reason       `json:"ledger_problems,omitempty"`
	Requires       []Prerequisite `json:"requires"`
	Waivers        []Waiver       `json:"waivers,omitempty"`
}

// Unsatisfied returns the prerequisites that are not satisfied.
func (r Result) Unsatisfied() []Prerequisite {
	var out []Prerequisite
	for _, p := range r.Requires {
		if !p.Satisfied {
			out = append(out, p)
		}
	}
	return out
}

// Check decides whether phase may start: every phase in its requires list
// must have a valid sign-off (see the package doc). The only error is an
// *UnknownPhaseError; every other problem is a Reason in the Result.
func (g *Gate) Check(phase string) (Result, error) {
	p, err := g.Phases.Phase(phase)
	if err != nil {
		return Result{}, err
	}
	ledger := g.Ledger
	if ledger == nil {
		ledger = &signoff.Ledger{}
	}
	res := Result{Phase: p.Name, Ledger: ledger.Path, Requires: []Prerequisite{}}
	if b := ledger.Break; b != nil {
		res.LedgerProblems = append(res.LedgerProblems, Reason{Kind: ChainBroken, File: b.Path, Line: b.Line, Message: b.Error()})
	}
	checked := ledger.Verify(g.Signers)
	for _, name := range p.Requires {
		pr := g.prerequisite(name, ledger, checked)
		if pr.Satisfied && pr.SignOff.Waiver != "" {
			res.Waivers = append(res.Waivers, Waiver{
				Phase: name, Line: pr.SignOff.Line, Signer: pr.SignOff.Signer, Report: pr.SignOff.Report,
				Verdict: pr.SignOff.Verdict, Reason: pr.SignOff.Waiver,
			})
		}
		res.Requires = append(res.Requires, pr)
	}
	res.OK = len(res.LedgerProblems) == 0 && len(res.Unsatisfied()) == 0
	return res, nil
}

func (g *Gate) prerequisite(phase string, ledger *signoff.Ledger, checked []signoff.Checked) Prerequisite {
	pr := Prerequisite{Phase: phase}
	var latest *signoff.Checked
	var rejected []Reason
	for i := range checked {
		c := &checked[i]
		if c.Trust == signoff.Malformed || c.Entry.Phase != phase {
			continue
		}
		if c.Trust == signoff.Trusted {
			latest = c
			continue
		}
		rejected = append(rejected, Reason{Kind: trustKind(c.Trust), File: ledger.Path, Line: c.Line, Message: c.Problem})
	}
	if latest == nil {
		msg := fmt.Sprintf("no trusted sign-off for phase %s in %s", phase, ledger.Path)
		switch {
		case ledger.Path == "":
			msg = fmt.Sprintf("no trusted sign-off for phase %s (no ledger)", phase)
		case !ledger.Exists:
			msg += " (the ledger does not exist)"
		case ledger.Break != nil:
			msg += fmt.Sprintf(" before the chain break at line %d", ledger.Break.Line)
		}
		pr.Reasons = append(rejected, Reason{Kind: NoSignOff, File: ledger.Path, Message: msg})
		return pr
	}
	e := latest.Entry
	pr.SignOff = &SignOff{
		Line: latest.Line, Signer: e.Signer, Time: e.Time, Report: e.Report,
		ReportSHA256: e.ReportSHA256, Verdict: e.Verdict, Waiver: e.Waiver,
	}
	pr.Reasons = g.checkReport(e, latest.Line)
	pr.Satisfied = len(pr.Reasons) == 0
	if pr.Satisfied {
		pr.Ignored = rejected
	} else {
		pr.Reasons = append(pr.Reasons, rejected...)
	}
	return pr
}

// checkReport checks that the signed report is still there, unchanged, and
// PASS or waived.
func (g *Gate) checkReport(e signoff.Entry, line int) []Reason {
	path := filepath.Join(g.BaseDir, filepath.FromSlash(e.Report))
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []Reason{{Kind: ReportMissing, File: e.Report, Line: line, Message: fmt.Sprintf(
			"report %s signed for %s on ledger line %d is missing (looked for %s)", e.Report, e.Phase, line, path)}}
	case err != nil:
		return []Reason{{Kind: ReportUnreadable, File: e.Report, Line: line, Message: fmt.Sprintf(
			"report %s signed for %s on ledger line %d: %v", e.Report, e.Phase, line, err)}}
	}
	if sum := sha256Hex(data); sum != e.ReportSHA256 {
		return []Reason{{Kind: ReportChanged, File: e.Report, Line: line, Message: fmt.Sprintf(
			"report %s changed since it was signed for %s on ledger line %d (sha256 was %s, is %s)",
			e.Report, e.Phase, line, e.ReportSHA256, sum)}}
	}
	verdict, err := signoff.ParseVerdict(data)
	if err != nil {
		verdict = "unreadable: " + err.Error()
	}
	if (verdict != signoff.VerdictPass || e.Verdict != signoff.VerdictPass) && e.Waiver == "" {
		return []Reason{{Kind: NotPass, File: e.Report, Line: line, Message: fmt.Sprintf(
			"report %s signed for %s on ledger line %d has verdict %s and the sign-off has no waiver", e.Report, e.Phase, line, verdict)}}
	}
	return nil
}

func trustKind(t signoff.Trust) Kind {
	switch t {
	case signoff.AfterBreak:
		return AfterBreak
	case signoff.UnknownSigner:
		return UnknownSigner
	case signoff.BadSignature:
		return BadSignature
	default:
		return Malformed
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SignedOff reports the state of one phase's own sign-off: its latest
// trusted sign-off and whether it holds (report unchanged, PASS or waived).
func (g *Gate) SignedOff(phase string) Prerequisite {
	ledger := g.Ledger
	if ledger == nil {
		ledger = &signoff.Ledger{}
	}
	pr := g.prerequisite(phase, ledger, ledger.Verify(g.Signers))
	if b := ledger.Break; b != nil && pr.Satisfied {
		pr.Satisfied = false
		pr.Reasons = append(pr.Reasons, Reason{Kind: ChainBroken, File: b.Path, Line: b.Line, Message: b.Error()})
	}
	return pr
}
