package io.kubeferry.proxy.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a KubeProxyConfiguration field (or whole section) kube-ferry accepts, type-checks and writes back but does
 * not act on. Set to other than its default, it shows in {@link ProxyConfig#unused()} and start-up warns about it:
 * an operator swapping kube-proxy for kube-ferry learns what no longer has an effect.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
@interface NotApplied {
}
