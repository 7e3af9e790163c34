package signoff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Report is what a sign-off needs of a report file: its hash and verdict.
type Report struct {
	Path    string // as read
	SHA256  string // hex sha256 of the file's bytes
	Verdict string // top-level "verdict": PASS, FAIL or INCONCLUSIVE
}

// ReadReport hashes the report at path and reads its verdict. A missing file
// is an error matching fs.ErrNotExist.
func ReadReport(path string) (Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Report{}, err
	}
	v, err := ParseVerdict(data)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	return Report{Path: path, SHA256: hex.EncodeToString(sum[:]), Verdict: v}, nil
}

// ParseVerdict reads the top-level "verdict" of a report's JSON. Anything
// but PASS, FAIL or INCONCLUSIVE is an error: a report without a clear
// verdict is never taken for a PASS.
func ParseVerdict(data []byte) (string, error) {
	var top struct {
		Verdict *string `json:"verdict"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return "", fmt.Errorf("not a JSON report: %w", err)
	}
	if top.Verdict == nil {
		return "", errors.New(`no top-level "verdict" (want PASS, FAIL or INCONCLUSIVE)`)
	}
	if !ValidVerdict(*top.Verdict) {
		return "", fmt.Errorf(`top-level "verdict" is %q, want PASS, FAIL or INCONCLUSIVE`, *top.Verdict)
	}
	return *top.Verdict, nil
}
