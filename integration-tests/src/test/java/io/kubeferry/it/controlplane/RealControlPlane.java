package io.kubeferry.it.controlplane;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * JUnit 5 extension: one real control plane per test class (etcd + kube-apiserver + kube-controller-manager)
 * and a Fabric8 client for it. Skips, saying why, when integration-tests/control-plane/provision.sh has not
 * run; dev/setup.sh (and so CI) runs it.
 */
public final class RealControlPlane implements BeforeAllCallback, AfterAllCallback {

    private ControlPlane controlPlane;
    private KubernetesClient client;
    private Thread shutdownHook;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Path binaries = ControlPlane.provisioned().orElse(null);
        assumeTrue(binaries != null, "no control plane provisioned: run integration-tests/control-plane/provision.sh "
                + "(dev/setup.sh does) to build kube-apiserver and fetch etcd");
        controlPlane = ControlPlane.start(binaries);
        shutdownHook = new Thread(controlPlane::close, "control-plane-teardown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        client = controlPlane.client();
        System.out.println("control plane " + ControlPlane.version(binaries) + " at " + controlPlane.url());
    }

    public KubernetesClient client() {
        return client;
    }

    public ControlPlane controlPlane() {
        return controlPlane;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (client != null) {
            client.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // shutting down: the hook closes it
            }
        }
    }
}
