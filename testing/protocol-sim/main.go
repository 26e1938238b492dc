// Command protocol-sim simulates the Protocol services that the monitoring
// stack watches, and receives the notifications it sends, for tests and
// demos. It is never part of a deployment.
//
//	protocol-sim simulate [flags]   registries A and B, the TEG layer, the SPIRE
//	                                server, an agent, an x509 exporter and a
//	                                postgres_exporter, each on its own listener,
//	                                with failure modes switched through a
//	                                control API
//	protocol-sim sink [flags]       a recording stand-in for Slack, PagerDuty
//	                                and heartbeat webhooks
//	protocol-sim probe URL          exit 0 if URL answers 2xx (a healthcheck
//	                                for images without curl)
//
// Standard library only; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const usage = `usage: protocol-sim simulate [flags]   simulated Protocol services (see simulate -h)
       protocol-sim sink [flags]       notification sink (see sink -h)
       protocol-sim probe URL          exit 0 if URL answers with a 2xx status
`

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch args[0] {
	case "simulate":
		os.Exit(simulateMain(args[1:], os.Stdout, os.Stderr))
	case "sink":
		os.Exit(sinkMain(args[1:], os.Stdout, os.Stderr))
	case "probe":
		os.Exit(probeMain(args[1:], os.Stderr))
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "protocol-sim: unknown command %q\n%s", args[0], usage)
		os.Exit(2)
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// withBind puts host in front of an address given as ":PORT".
func withBind(addr, host string) string {
	if host != "" && strings.HasPrefix(addr, ":") {
		return net.JoinHostPort(host, addr[1:])
	}
	return addr
}

func simulateMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("protocol-sim simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addrs := map[string]*string{}
	for _, sp := range specs {
		addrs[sp.name] = fs.String(sp.name, fmt.Sprintf(":%d", sp.defaultPort),
			fmt.Sprintf("listen address of %s (job %s, %s); empty: not simulated", sp.name, sp.job, sp.metricsPath))
	}
	control := fs.String("control", ":8099", "listen address of the control API")
	bind := fs.String("bind", "", "host for every address given as :PORT, e.g. 127.0.0.1 (default: all interfaces)")
	seed := fs.Uint64("seed", 0, "random seed (0: from the clock)")
	var modes listFlag
	fs.Var(&modes, "mode", "SERVICE/MODE to switch on at start (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: protocol-sim simulate [flags]\n\nServices and their modes:\n%s\nFlags:\n", modeList())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "protocol-sim simulate: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var names []string
	listen := map[string]string{}
	for _, sp := range specs {
		if a := *addrs[sp.name]; a != "" {
			names = append(names, sp.name)
			listen[sp.name] = withBind(a, *bind)
		}
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	sim := newSim(time.Now, *seed, stdout, names)
	x, err := startSimulator(sim, listen, withBind(*control, *bind))
	if err != nil {
		fmt.Fprintf(stderr, "protocol-sim simulate: %v\n", err)
		return 1
	}
	defer x.close()
	for _, m := range modes {
		service, mode, _ := strings.Cut(m, "/")
		if _, err := x.setMode(service, mode, true); err != nil {
			fmt.Fprintf(stderr, "protocol-sim simulate: --mode %s: %v\n", m, err)
			return 2
		}
	}
	fields := []kv{{"control", x.control.address()}}
	for _, n := range names {
		fields = append(fields, kv{n, x.endpoints[n].address()})
	}
	sim.log.Log("info", "protocol-sim", "protocol_sim", "simulator_started", fields...)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			sim.log.Log("info", "protocol-sim", "protocol_sim", "simulator_stopped")
			return 0
		case <-tick.C:
			sim.Tick(1)
		}
	}
}

func probeMain(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprint(stderr, "usage: protocol-sim probe URL\n")
		return 2
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		fmt.Fprintf(stderr, "probe: %s answered %s\n", args[0], resp.Status)
		return 1
	}
	return 0
}
