// Command cainjector is a stand-in for cert-manager's cainjector (upstream
// cmd/cainjector, which the module proxy does not serve). It runs
// cert-manager's own injectors (pkg/controller/cainjector): CA bundles go into
// Validating/MutatingWebhookConfigurations, APIServices and CRDs annotated
// cert-manager.io/inject-ca-from (a Certificate) or
// cert-manager.io/inject-ca-from-secret (a Secret).
//
// Defaults come from cert-manager's own CAInjectorConfiguration defaulting;
// the flags are the upstream names a deployment uses. Not here (so passing
// them fails): --config, --enable-profiling/--profiler-address, the
// --metrics-tls-*/--metrics-dynamic-serving-* flags (metrics are plain HTTP).
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	cliflag "k8s.io/component-base/cli/flag"
	apireg "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cert-manager/cert-manager/finops-ci-standin/standin"
	config "github.com/cert-manager/cert-manager/internal/apis/config/cainjector"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/cainjector/scheme"
	"github.com/cert-manager/cert-manager/internal/apis/config/cainjector/validation"
	_ "github.com/cert-manager/cert-manager/internal/cainjector/feature" // its feature gates
	"github.com/cert-manager/cert-manager/internal/kube"
	configv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/cainjector/v1alpha1"
	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
)

func main() { standin.Main("cainjector", newCommand) }

// defaults: the v1alpha1 CAInjectorConfiguration through cert-manager's own
// defaulting and conversion (leader election on in kube-system, metrics on
// 0.0.0.0:9402, every injectable and the Certificate data source enabled).
func defaults() *config.CAInjectorConfiguration {
	scheme, _, err := configscheme.NewSchemeAndCodecs()
	utilruntime.Must(err)
	v := &configv1alpha1.CAInjectorConfiguration{}
	scheme.Default(v)
	c := &config.CAInjectorConfiguration{}
	utilruntime.Must(scheme.Convert(v, c, nil))
	return c
}

func newCommand() *cobra.Command {
	c := defaults()
	cmd := &cobra.Command{
		Short: "cert-manager CA injector (finops-ci stand-in built from the cert-manager module)",
		PreRunE: func(*cobra.Command, []string) error {
			if err := standin.SetFeatureGates(c.FeatureGates); err != nil {
				return err
			}
			if errs := validation.ValidateCAInjectorConfiguration(c, nil); len(errs) > 0 {
				return fmt.Errorf("invalid flags: %w", errs.ToAggregate())
			}
			return logf.ValidateAndApply(&c.Logging)
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), c) },
	}
	fs := cmd.Flags()
	fs.StringVar(&c.KubeConfig, "kubeconfig", c.KubeConfig, "Path to a kubeconfig. Only required if out-of-cluster.")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "If set, only inject into resources in this namespace.")
	fs.StringSliceVar(&c.IgnoreNamespaces, "ignore-namespaces", c.IgnoreNamespaces, "Namespaces to ignore secrets from (not with --namespace).")
	standin.LeaderElectionFlags(fs, &c.LeaderElectionConfig, "injects")
	fs.BoolVar(&c.EnableDataSourceConfig.Certificates, "enable-certificates-data-source", c.EnableDataSourceConfig.Certificates, "Allow cert-manager.io/inject-ca-from (Certificates as CA source; needs the Certificate CRD).")
	inj := &c.EnableInjectableConfig
	fs.BoolVar(&inj.ValidatingWebhookConfigurations, "enable-validatingwebhookconfigurations-injectable", inj.ValidatingWebhookConfigurations, "Inject into annotated ValidatingWebhookConfigurations.")
	fs.BoolVar(&inj.MutatingWebhookConfigurations, "enable-mutatingwebhookconfigurations-injectable", inj.MutatingWebhookConfigurations, "Inject into annotated MutatingWebhookConfigurations.")
	fs.BoolVar(&inj.CustomResourceDefinitions, "enable-customresourcedefinitions-injectable", inj.CustomResourceDefinitions, "Inject into annotated CustomResourceDefinitions.")
	fs.BoolVar(&inj.APIServices, "enable-apiservices-injectable", inj.APIServices, "Inject into annotated APIServices.")
	fs.StringVar(&c.MetricsListenAddress, "metrics-listen-address", c.MetricsListenAddress, "host:port of the (plain HTTP) metrics endpoint; '0' disables it.")
	fs.Var(cliflag.NewMapStringBool(&c.FeatureGates), "feature-gates", "key=value pairs of feature gates:\n"+
		strings.Join(utilfeature.DefaultFeatureGate.KnownFeatures(), "\n"))
	logf.AddFlags(&c.Logging, fs) // --v, --vmodule, --logging-format, ...
	return cmd
}

func run(ctx context.Context, c *config.CAInjectorConfiguration) error {
	log := logf.FromContext(ctx)
	v := util.VersionInfo()
	log.Info("starting cert-manager ca-injector (stand-in)", "version", v.GitVersion, "go_version", v.GoVersion, "platform", v.Platform)

	// --kubeconfig, else in-cluster (the service account).
	restConfig, err := kube.BuildClientConfig("", c.KubeConfig)
	if err != nil {
		return fmt.Errorf("building the Kubernetes client config: %w", err)
	}
	restConfig = util.RestConfigWithUserAgent(restConfig, "cainjector")

	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	utilruntime.Must(apireg.AddToScheme(scheme))

	var namespaces map[string]cache.Config
	if c.Namespace != "" {
		namespaces = map[string]cache.Config{c.Namespace: {}}
	}
	le := c.LeaderElectionConfig
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme: scheme,
		Cache:  cache.Options{ReaderFailOnMissingInformer: true, DefaultNamespaces: namespaces},
		// Secrets are read straight from the API server, not cached (as
		// upstream: caching every Secret in a cluster costs memory and a
		// big initial LIST); the RBAC needed is the same (get).
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		// The same Lease as upstream's, so the two never run side by side.
		LeaderElection:                le.Enabled,
		LeaderElectionNamespace:       le.Namespace,
		LeaderElectionID:              "cert-manager-cainjector-leader-election",
		LeaderElectionLabels:          map[string]string{"app.kubernetes.io/managed-by": "cert-manager-cainjector"},
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionResourceLock:    resourcelock.LeasesResourceLock,
		LeaseDuration:                 &le.LeaseDuration,
		RenewDeadline:                 &le.RenewDeadline,
		RetryPeriod:                   &le.RetryPeriod,
		Metrics:                       metricsserver.Options{BindAddress: c.MetricsListenAddress},
	})
	if err != nil {
		return fmt.Errorf("creating the controller manager: %w", err)
	}

	// inject-ca-from needs the Certificate CRD: wait for it (up to 5 min,
	// like upstream) rather than fail while the CRDs are being applied.
	if c.EnableDataSourceConfig.Certificates {
		direct, err := client.New(restConfig, client.Options{Scheme: scheme, Mapper: mgr.GetRESTMapper()})
		if err != nil {
			return fmt.Errorf("creating a client: %w", err)
		}
		err = wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
			err := direct.Get(ctx, types.NamespacedName{Name: "certificates.cert-manager.io"}, &apiext.CustomResourceDefinition{})
			if apierrors.IsNotFound(err) {
				log.Info("waiting for the certificates.cert-manager.io CRD")
				return false, nil
			}
			return err == nil, err
		})
		if err != nil {
			return fmt.Errorf("looking for the certificates.cert-manager.io CRD: %w", err)
		}
	}

	if err := cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    c.Namespace,
		IgnoreNamespaces:             c.IgnoreNamespaces,
		EnableCertificatesDataSource: c.EnableDataSourceConfig.Certificates,
		EnabledReconcilersFor: map[string]bool{
			cainjector.ValidatingWebhookConfigurationName: c.EnableInjectableConfig.ValidatingWebhookConfigurations,
			cainjector.MutatingWebhookConfigurationName:   c.EnableInjectableConfig.MutatingWebhookConfigurations,
			cainjector.APIServiceName:                     c.EnableInjectableConfig.APIServices,
			cainjector.CustomResourceDefinitionName:       c.EnableInjectableConfig.CustomResourceDefinitions,
		},
	}); err != nil {
		return fmt.Errorf("registering the injectors: %w", err)
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the controller manager: %w", err)
	}
	return nil
}
