// Command webhook is a stand-in for cert-manager's webhook (upstream
// cmd/webhook, which the module proxy does not serve): cert-manager's own
// validating/mutating/conversion webhook server (internal/webhook), with
// cert-manager's own flag set and defaults (pkg/webhook/options).
//
// Differences from upstream: no --config file (the flag is not registered, so
// passing it fails).
package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cert-manager/cert-manager/finops-ci-standin/standin"
	"github.com/cert-manager/cert-manager/internal/apis/config/webhook/validation"
	cmwebhook "github.com/cert-manager/cert-manager/internal/webhook"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	"github.com/cert-manager/cert-manager/pkg/webhook/options"
)

func main() { standin.Main("webhook", newCommand) }

func newCommand() *cobra.Command {
	// Upstream's defaults: the v1alpha1 WebhookConfiguration, defaulted and
	// converted (--secure-port 6443, --healthz-port 6080, ...).
	cfg, err := options.NewWebhookConfiguration()
	if err != nil {
		panic(fmt.Sprintf("defaulting the webhook configuration: %v", err)) // a bug, not input
	}
	cmd := &cobra.Command{
		Short: "cert-manager webhook (finops-ci stand-in built from the cert-manager module)",
		PreRunE: func(*cobra.Command, []string) error {
			if err := standin.SetFeatureGates(cfg.FeatureGates); err != nil {
				return err
			}
			if errs := validation.ValidateWebhookConfiguration(cfg, nil); len(errs) > 0 {
				return fmt.Errorf("invalid flags: %w", errs.ToAggregate())
			}
			return logf.ValidateAndApply(&cfg.Logging) // --v, --logging-format
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := logf.FromContext(cmd.Context())
			v := util.VersionInfo()
			log.Info("starting cert-manager webhook (stand-in)", "version", v.GitVersion, "go_version", v.GoVersion, "platform", v.Platform)
			// Serves admission on --secure-port (TLS from the dynamic CA in
			// --dynamic-serving-ca-secret-*, or --tls-cert-file) and /livez,
			// /healthz on --healthz-port; fails if the API server is unusable.
			srv, err := cmwebhook.NewCertManagerWebhookServer(log, *cfg)
			if err != nil {
				return fmt.Errorf("setting up the webhook server: %w", err)
			}
			return srv.Run(cmd.Context())
		},
	}
	options.AddConfigFlags(cmd.Flags(), cfg)
	return cmd
}
