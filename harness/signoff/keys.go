package signoff

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Default paths, relative to the repository root.
const (
	DefaultSigners = "scenarios/signers.txt"
	DefaultLedger  = "reports/signoffs.jsonl"
)

// PublicKeyPrefix starts a public key in the signers file.
const PublicKeyPrefix = "ed25519:"

const pemType = "PRIVATE KEY"

// maxNameLen bounds a signer name.
const maxNameLen = 64

// ValidName reports whether name may name a signer: it starts with a letter
// or digit, continues with letters, digits and . _ @ + -, and is at most 64
// bytes long.
func ValidName(name string) bool {
	if name == "" || len(name) > maxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && strings.IndexByte("._@+-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func checkName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("signer name %q: want letters, digits and . _ @ + - (starting with a letter or digit, at most %d bytes)", name, maxNameLen)
	}
	return nil
}

// GenerateKey makes a new ed25519 key pair from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// MarshalPrivateKey encodes key as a PEM "PRIVATE KEY" block (PKCS #8).
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// ParsePrivateKey decodes what MarshalPrivateKey wrote (or any PKCS #8 PEM
// ed25519 key, such as openssl's).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block: want a \"PRIVATE KEY\" block as written by harness keygen")
	}
	if block.Type != pemType {
		return nil, fmt.Errorf("PEM block is %q, want %q (an unencrypted PKCS #8 ed25519 key)", block.Type, pemType)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("PKCS #8: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is a %T, want an ed25519 key", k)
	}
	return ek, nil
}

// WritePrivateKey writes key to a new file at path with mode 0600. It never
// overwrites: an existing file is an error (errors.Is(err, fs.ErrExist)).
func WritePrivateKey(path string, key ed25519.PrivateKey) (err error) {
	data, err := MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}

// ReadPrivateKey reads a key file written by WritePrivateKey.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// FormatPublicKey renders pub as in the signers file: "ed25519:BASE64".
func FormatPublicKey(pub ed25519.PublicKey) string {
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads "ed25519:BASE64" as written by FormatPublicKey.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(s, PublicKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("public key %q: want %sBASE64", s, PublicKeyPrefix)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("public key %q: %w", s, err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %q: %d bytes, want %d", s, len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// SignerLine is the signers-file line that trusts pub under name.
func SignerLine(name string, pub ed25519.PublicKey) string {
	return name + " " + FormatPublicKey(pub)
}

// Signer is one trusted signer.
type Signer struct {
	Name string
	Key  ed25519.PublicKey
	Line int // line in the signers file
}

// Signers is the parsed trusted signers file. A nil *Signers trusts no one.
type Signers struct {
	Path string // as given to LoadSigners or ParseSigners, for messages
	list []Signer
}

// LoadSigners reads the signers file at path.
func LoadSigners(path string) (*Signers, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseSigners(f, path)
}

// ParseSigners reads a signers file from r; file names it in errors.
func ParseSigners(r io.Reader, file string) (*Signers, error) {
	s := &Signers{Path: file}
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"NAME %sBASE64PUBKEY\", got %d fields", file, n, PublicKeyPrefix, len(fields))
		}
		if err := checkName(fields[0]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, n, err)
		}
		pub, err := ParsePublicKey(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, n, err)
		}
		if first, dup := seen[fields[0]]; dup {
			return nil, fmt.Errorf("%s:%d: signer %q is already listed on line %d", file, n, fields[0], first)
		}
		seen[fields[0]] = n
		s.list = append(s.list, Signer{Name: fields[0], Key: pub, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", file, n+1, err)
	}
	return s, nil
}

// Lookup returns the trusted signer called name.
func (s *Signers) Lookup(name string) (Signer, bool) {
	if s == nil {
		return Signer{}, false
	}
	for _, sg := range s.list {
		if sg.Name == name {
			return sg, true
		}
	}
	return Signer{}, false
}

// All returns the trusted signers in file order.
func (s *Signers) All() []Signer {
	if s == nil {
		return nil
	}
	return append([]Signer(nil), s.list...)
}
