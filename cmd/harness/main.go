// Command harness is the cutover harness CLI; see README.md.
package main

import (
	"os"

	"github.com/thor-trading/cutover-harness/harness/cli"
)

func main() { os.Exit(cli.Main(cli.OSEnv())) }
