// Command controller is a stand-in for the cert-manager controller (upstream
// cmd/controller, which the module proxy does not serve), reduced to what a
// cluster with CA and SelfSigned issuers needs: cert-manager's own control
// loops from pkg/controller/..., run the way upstream runs them (one context
// factory, a metrics server, a /livez server, optional leader election).
//
// Not built in: ACME, Vault and Venafi issuers, ingress/gateway shims, the
// CertificateSigningRequest controllers. Venafi is out because the module
// proxy refuses github.com/Venafi/vcert/v5 v5.13.x, so nothing here may import
// it (also why upstream's defaulting package, which names the Venafi
// controller, is not used: the defaults below are upstream's values).
// Flags not listed in newCommand (e.g. --config, --acme-*, --dns01-*) are
// unknown here and fail.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	cliflag "k8s.io/component-base/cli/flag"
	logsapi "k8s.io/component-base/logs/api/v1"

	"github.com/cert-manager/cert-manager/finops-ci-standin/standin"
	"github.com/cert-manager/cert-manager/internal/apis/config/shared"
	sharedvalidation "github.com/cert-manager/cert-manager/internal/apis/config/shared/validation"
	"github.com/cert-manager/cert-manager/internal/controller/feature"
	"github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/healthz"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/server"
	"github.com/cert-manager/cert-manager/pkg/util"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"

	// The control loops (each registers itself in controller.Known()) and
	// the two issuer implementations they may use.
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/metrics"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	clusterissuers "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

func main() { standin.Main("controller", newCommand) }

type options struct {
	ctx            controller.ContextOptions
	controllers    []string
	workers        int
	leaderElection shared.LeaderElectionConfig
	healthzTimeout time.Duration // leader election's grace in /livez
	metricsAddress string
	healthzAddress string
	featureGates   map[string]bool
	logging        *logsapi.LoggingConfiguration
}

func newCommand() *cobra.Command {
	// Upstream's defaults (internal/apis/config/controller/v1alpha1 and
	// internal/apis/config/shared/v1alpha1 of the same version).
	o := &options{
		ctx: controller.ContextOptions{
			KubernetesAPIQPS:   20,
			KubernetesAPIBurst: 50,
			IssuerOptions: controller.IssuerOptions{
				ClusterResourceNamespace:        "kube-system",
				ClusterIssuerAmbientCredentials: true,
			},
			CertificateOptions: controller.CertificateOptions{
				CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
				CertificateRequestMinimumBackoffDuration: time.Hour,
				CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
			},
		},
		controllers: []string{"*"},
		workers:     5,
		leaderElection: shared.LeaderElectionConfig{
			Enabled: true, Namespace: "kube-system",
			LeaseDuration: 60 * time.Second, RenewDeadline: 40 * time.Second, RetryPeriod: 15 * time.Second,
		},
		healthzTimeout: 20 * time.Second,
		metricsAddress: "0.0.0.0:9402",
		healthzAddress: "0.0.0.0:9403",
		logging:        logsapi.NewLoggingConfiguration(),
	}
	var enabled sets.Set[string]
	cmd := &cobra.Command{
		Short: "cert-manager controller, CA and SelfSigned issuers only (finops-ci stand-in built from the cert-manager module)",
		PreRunE: func(*cobra.Command, []string) (err error) {
			if err := standin.SetFeatureGates(o.featureGates); err != nil {
				return err
			}
			if err := o.validate(); err != nil {
				return fmt.Errorf("invalid flags: %w", err)
			}
			if enabled, err = o.enabledControllers(); err != nil {
				return fmt.Errorf("invalid flags: %w", err)
			}
			return logf.ValidateAndApply(o.logging)
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), o, enabled) },
	}

	fs := cmd.Flags()
	c := &o.ctx
	fs.StringVar(&c.APIServerHost, "master", c.APIServerHost, "Optional API server address; default: in-cluster config.")
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "Path to a kubeconfig. Only required if out-of-cluster.")
	fs.Float32Var(&c.KubernetesAPIQPS, "kube-api-qps", c.KubernetesAPIQPS, "Maximum queries per second to the API server.")
	fs.IntVar(&c.KubernetesAPIBurst, "kube-api-burst", c.KubernetesAPIBurst, "Maximum burst of queries to the API server.")
	fs.StringVar(&c.ClusterResourceNamespace, "cluster-resource-namespace", c.ClusterResourceNamespace, "Namespace holding the resources (e.g. CA Secrets) of cluster-scoped resources such as ClusterIssuers.")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "If set, watch only this namespace (ClusterIssuers are then disabled).")
	standin.LeaderElectionFlags(fs, &o.leaderElection, "runs the controllers")
	fs.StringSliceVar(&o.controllers, "controllers", o.controllers, "Controllers to run: '*' = all built in, 'foo' = only foo, '*,-foo' = all but foo.\n"+
		"Built in: "+strings.Join(builtIn(), ", "))
	fs.IntVar(&o.workers, "concurrent-workers", o.workers, "Concurrent workers per controller.")
	fs.BoolVar(&c.IssuerAmbientCredentials, "issuer-ambient-credentials", c.IssuerAmbientCredentials, "Whether an Issuer may use ambient credentials (unused by CA/SelfSigned).")
	fs.BoolVar(&c.ClusterIssuerAmbientCredentials, "cluster-issuer-ambient-credentials", c.ClusterIssuerAmbientCredentials, "Whether a ClusterIssuer may use ambient credentials (unused by CA/SelfSigned).")
	fs.BoolVar(&c.EnableOwnerRef, "enable-certificate-owner-ref", c.EnableOwnerRef, "Make the Certificate the owner of its Secret (deleted with it).")
	fs.StringSliceVar(&c.CopiedAnnotationPrefixes, "copied-annotation-prefixes", c.CopiedAnnotationPrefixes, "Annotation key prefixes copied from Certificate to CertificateRequest ('-' excludes).")
	fs.DurationVar(&c.CertificateRequestMinimumBackoffDuration, "certificate-request-minimum-backoff-duration", c.CertificateRequestMinimumBackoffDuration, "Minimum back-off after a failed CertificateRequest.")
	fs.DurationVar(&c.CertificateRequestMaximumBackoffDuration, "certificate-request-maximum-backoff-duration", c.CertificateRequestMaximumBackoffDuration, "Maximum back-off after failed CertificateRequests.")
	fs.StringVar(&o.metricsAddress, "metrics-listen-address", o.metricsAddress, "host:port of the (plain HTTP) Prometheus metrics endpoint.")
	// Upstream hides these two and prefixes them internal-; same names here.
	fs.StringVar(&o.healthzAddress, "internal-healthz-listen-address", o.healthzAddress, "host:port of the healthz server (/livez, for the liveness probe).")
	fs.DurationVar(&o.healthzTimeout, "internal-healthz-leader-election-timeout", o.healthzTimeout, "/livez stays healthy this long after a leader election lease expires.")
	fs.Var(cliflag.NewMapStringBool(&o.featureGates), "feature-gates", "key=value pairs of feature gates:\n"+
		strings.Join(utilfeature.DefaultFeatureGate.KnownFeatures(), "\n"))
	logf.AddFlags(o.logging, fs) // --v, --vmodule, --logging-format, ...
	return cmd
}

// builtIn: the controllers compiled into this binary.
func builtIn() []string {
	var names []string
	for n := range controller.Known() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// The checks of upstream's ValidateControllerConfiguration that apply here.
func (o *options) validate() error {
	var errs []error
	for _, e := range sharedvalidation.ValidateLeaderElectionConfig(&o.leaderElection, nil) {
		errs = append(errs, e)
	}
	c := o.ctx
	if c.KubernetesAPIQPS < -1 || c.KubernetesAPIBurst < -1 || float32(c.KubernetesAPIBurst) < c.KubernetesAPIQPS {
		errs = append(errs, fmt.Errorf("--kube-api-qps/--kube-api-burst: both >= -1 and burst >= qps"))
	}
	if o.leaderElection.Enabled && o.healthzTimeout <= 0 {
		errs = append(errs, errors.New("--internal-healthz-leader-election-timeout must be > 0"))
	}
	minB, maxB := c.CertificateRequestMinimumBackoffDuration, c.CertificateRequestMaximumBackoffDuration
	if minB < 0 || maxB < 0 || (minB > 0 && maxB > 0 && maxB < minB) {
		errs = append(errs, errors.New("certificate request back-off: durations must be >= 0 and maximum >= minimum"))
	}
	return errors.Join(errs...)
}

// enabledControllers: upstream's --controllers semantics, except that '*'
// means every controller built in here, and a name that is not built in is
// an error (upstream would know it; here it cannot run).
func (o *options) enabledControllers() (sets.Set[string], error) {
	known := sets.New(builtIn()...)
	enabled, disabled := sets.New[string](), sets.New[string]()
	for _, n := range o.controllers {
		switch {
		case n == "*":
			enabled.Insert(known.UnsortedList()...)
			continue
		case strings.HasPrefix(n, "-"):
			n = strings.TrimPrefix(n, "-")
			disabled.Insert(n)
		default:
			enabled.Insert(n)
		}
		if !known.Has(n) {
			return nil, fmt.Errorf("--controllers: %q is not built into this stand-in (built in: %s)", n, strings.Join(builtIn(), ", "))
		}
	}
	if enabled.Len() == 0 && disabled.Len() > 0 { // only "-foo": '*' implied
		enabled.Insert(known.UnsortedList()...)
	}
	// Upstream adds the CertificateSigningRequest controllers for this gate;
	// they are not built in here.
	if utilfeature.DefaultFeatureGate.Enabled(feature.ExperimentalCertificateSigningRequestControllers) {
		return nil, errors.New("--feature-gates: ExperimentalCertificateSigningRequestControllers: the CertificateSigningRequest controllers are not built into this stand-in")
	}
	if o.ctx.Namespace != "" { // namespaced: no cluster-scoped controllers
		enabled.Delete(clusterissuers.ControllerName)
	}
	return enabled.Delete(disabled.UnsortedList()...), nil
}

func run(rootCtx context.Context, o *options, enabled sets.Set[string]) error {
	rootCtx, cancel := context.WithCancel(rootCtx)
	defer cancel()
	log := logf.FromContext(rootCtx)
	v := util.VersionInfo()
	log.Info("starting cert-manager controller (stand-in)", "version", v.GitVersion, "go_version", v.GoVersion, "platform", v.Platform)
	log.Info("enabled controllers: " + strings.Join(sets.List(enabled), ", "))

	g, ctx := errgroup.WithContext(rootCtx)
	// Clients (in-cluster config unless --kubeconfig/--master), informers.
	factory, err := controller.NewContextFactory(ctx, o.ctx)
	if err != nil {
		return err
	}
	base, err := factory.Build()
	if err != nil {
		return err
	}

	// Prometheus metrics, plain HTTP.
	metricsLn, err := server.Listen(ctx, "tcp", o.metricsAddress)
	if err != nil {
		return fmt.Errorf("listening on metrics address %s: %w", o.metricsAddress, err)
	}
	informers := base.SharedInformerFactory.Certmanager().V1()
	base.Metrics.SetupCertificateCollector(informers.Certificates().Lister())
	base.Metrics.SetupIssuerCollector(informers.Issuers().Lister())
	if enabled.Has(clusterissuers.ControllerName) {
		base.Metrics.SetupClusterIssuerCollector(informers.ClusterIssuers().Lister())
	}
	metricsServer := base.Metrics.NewServer(metricsLn)
	g.Go(func() error {
		if err := metricsServer.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return metricsServer.Shutdown(shutdownCtx) //nolint:contextcheck // ctx is done
	})

	// /livez: fails when leader election stalls or the clock jumps.
	healthzLn, err := server.Listen(ctx, "tcp", o.healthzAddress)
	if err != nil {
		return fmt.Errorf("listening on healthz address %s: %w", o.healthzAddress, err)
	}
	healthzServer := healthz.NewServer(o.healthzTimeout)
	g.Go(func() error { return healthzServer.Start(ctx, healthzLn) })

	elected := make(chan struct{})
	if o.leaderElection.Enabled {
		g.Go(func() error { return leaderElect(ctx, o, factory, healthzServer.LeaderHealthzAdaptor, elected) })
	} else {
		close(elected)
	}
	select {
	case <-ctx.Done():
		return g.Wait()
	case <-elected:
	}

	for _, name := range sets.List(enabled) {
		iface, err := controller.Known()[name](factory)
		if err != nil {
			cancel()
			return errors.Join(fmt.Errorf("starting controller %s: %w", name, err), g.Wait())
		}
		log.V(logf.InfoLevel).Info("starting controller", "controller", name)
		g.Go(func() error { return iface.Run(o.workers, ctx) })
	}
	// After the controllers: they register the informers they need.
	base.SharedInformerFactory.Start(ctx.Done())
	base.KubeSharedInformerFactory.Start(ctx.Done())
	base.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())

	err = g.Wait()
	base.HTTP01ResourceMetadataInformersFactory.Shutdown()
	base.KubeSharedInformerFactory.Shutdown()
	base.SharedInformerFactory.Shutdown()
	if err != nil {
		return fmt.Errorf("running controllers: %w", err)
	}
	log.Info("control loops exited")
	return nil
}

// leaderElect holds upstream's Lease (kube-system/cert-manager-controller by
// default), so the stand-in and a real controller never both lead. It
// closes elected on winning and fails when leadership is lost.
func leaderElect(ctx context.Context, o *options, factory *controller.ContextFactory, watchdog *leaderelection.HealthzAdaptor, elected chan struct{}) error {
	lctx, err := factory.Build("leader-election")
	if err != nil {
		return err
	}
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("getting hostname: %w", err)
	}
	le := o.leaderElection
	lock, err := resourcelock.NewWithLabels(resourcelock.LeasesResourceLock, le.Namespace, "cert-manager-controller",
		lctx.Client.CoreV1(), lctx.Client.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: host + "-external-cert-manager-controller", EventRecorder: lctx.Recorder},
		map[string]string{"app.kubernetes.io/managed-by": "cert-manager"})
	if err != nil {
		return fmt.Errorf("creating leader election lock: %w", err)
	}
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, LeaseDuration: le.LeaseDuration, RenewDeadline: le.RenewDeadline, RetryPeriod: le.RetryPeriod,
		ReleaseOnCancel: true, WatchDog: watchdog,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(elected) },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return err
	}
	elector.Run(ctx) // returns when ctx ends or leadership is lost
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("leader election lost")
}
