package cli

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/thor-trading/cutover-harness/harness/signoff"
)

func newKeygenCmd(env *Env) *cobra.Command {
	var name, out string
	cmd := &cobra.Command{
		Use:   "keygen --name NAME --out FILE",
		Short: "Make a QA signing key (ed25519)",
		Long: `keygen writes a new ed25519 private key to FILE (PEM, PKCS #8, mode 0600;
it never overwrites a file) and prints the line that trusts its public half:

  NAME ed25519:BASE64PUBKEY

Add that line to the trusted signers file (` + signoff.DefaultSigners + `) and commit
it: the gate trusts sign-offs by NAME once it is there. Keep FILE secret and
out of the repository.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" || out == "" {
				return badInput(errors.New("keygen needs --name NAME and --out FILE"))
			}
			if !signoff.ValidName(name) {
				return badInput(fmt.Errorf("--name %q: want letters, digits and . _ @ + - (starting with a letter or digit)", name))
			}
			pub, priv, err := signoff.GenerateKey()
			if err != nil {
				return &ExitError{Code: ExitInternal, Err: err}
			}
			if err := signoff.WritePrivateKey(out, priv); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return badInput(fmt.Errorf("%s exists: keygen never overwrites a key; choose another --out", out))
				}
				return badInput(err)
			}
			fmt.Fprintln(env.Stdout, signoff.SignerLine(name, pub))
			fmt.Fprintf(env.Stderr, "wrote %s's private key to %s (mode 0600): keep it secret, never commit it.\n"+
				"Add the line above to %s and commit it.\n", name, out, signoff.DefaultSigners)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "signer name, as it will appear in the signers file and the ledger")
	cmd.Flags().StringVar(&out, "out", "", "private key file to create")
	return cmd
}
