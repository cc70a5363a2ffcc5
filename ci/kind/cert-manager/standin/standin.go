// Package standin is what the three cert-manager stand-ins share: how a
// program starts, logs and exits.
//
// Why stand-ins: the Go module proxy serves cert-manager's main module, but
// not its cmd/* modules (controller-binary, webhook-binary, cainjector-binary
// are untagged and point at ../../), so we write our own small mains against
// the main module's packages. See ci/kind/README.md.
package standin

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cert-manager/cert-manager/internal/apis/config/shared"
	"github.com/cert-manager/cert-manager/internal/cmd/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util/feature"
)

// Main runs the command that newCommand builds: logs go to stderr (klog),
// SIGTERM/SIGINT cancel the context, and an error is logged and turns into
// a non-zero exit status. Unknown flags are errors (cobra's default).
func Main(component string, newCommand func() *cobra.Command) {
	ctx, exit := util.SetupExitHandler(context.Background(), util.GracefulShutdown)
	defer exit() // may call os.Exit: deferred first, so it runs last

	logf.InitLogs()
	defer logf.FlushLogs()
	ctrl.SetLogger(logf.Log) // controller-runtime logs through klog too
	ctx = logf.NewContext(ctx, logf.Log, component)

	cmd := newCommand()
	cmd.Use = component
	// Errors are logged once, below; usage only on --help.
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.ExecuteContext(ctx); err != nil {
		logf.Log.Error(err, "error executing command")
		util.SetExitCode(err)
	}
}

// SetFeatureGates applies --feature-gates to the process-wide gate, as the
// upstream commands do before anything reads a gate.
func SetFeatureGates(gates map[string]bool) error {
	return feature.DefaultMutableFeatureGate.SetFromMap(gates)
}

// LeaderElectionFlags registers upstream's --leader-elect* flags on fs for le
// (the controller and the cainjector take the same five).
func LeaderElectionFlags(fs *pflag.FlagSet, le *shared.LeaderElectionConfig, what string) {
	fs.BoolVar(&le.Enabled, "leader-elect", le.Enabled, "Perform leader election (a Lease) so one instance "+what+" at a time.")
	fs.StringVar(&le.Namespace, "leader-election-namespace", le.Namespace, "Namespace of the leader election Lease.")
	fs.DurationVar(&le.LeaseDuration, "leader-election-lease-duration", le.LeaseDuration, "Leader election lease duration.")
	fs.DurationVar(&le.RenewDeadline, "leader-election-renew-deadline", le.RenewDeadline, "Leader election renew deadline.")
	fs.DurationVar(&le.RetryPeriod, "leader-election-retry-period", le.RetryPeriod, "Leader election retry period.")
}
