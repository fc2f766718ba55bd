package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.kubeferry.proxy.model.Cidr;

import java.util.ArrayList;
import java.util.List;

import static io.kubeferry.proxy.state.ObjectValidation.isCidr;
import static io.kubeferry.proxy.state.ObjectValidation.quote;

/**
 * A networking.k8s.io/v1 ServiceCIDR to the blocks (of either family) nftables mode drops unallocated traffic to. Upstream
 * (k/k pkg/proxy/config ServiceCIDRConfig, nftables Proxier.OnServiceCIDRsChanged) takes {@code spec.cidrs} of
 * every object its informer holds and keeps those of its proxier's family (here: each family's state gets its own
 * family's blocks): no look at the Ready condition nor at
 * a pending deletion (a ServiceCIDR being deleted keeps its finalizer while addresses in it are still allocated,
 * so they are still Service addresses). The same here. On top, each entry is checked as the API server checks it
 * (a CIDR in canonical form), since objects also come from files and from servers that do not validate: upstream
 * would take a malformed entry for IPv6 and leave it out of its IPv4 rule (or put it in its IPv6 one) without a word.
 * Pure.
 */
final class ServiceCIDRConverter {

    private ServiceCIDRConverter() {
    }

    /**
     * @param cidrs    the object's blocks, IPv4 and IPv6, in its order
     * @param problems entries dropped as malformed, or the whole object when it names no CIDR
     */
    record Result(List<Cidr> cidrs, List<ObjectProblem> problems) {

        Result {
            cidrs = List.copyOf(cidrs);
            problems = List.copyOf(problems);
        }
    }

    static Result convert(ServiceCIDR object) {
        List<String> entries = object.getSpec() == null || object.getSpec().getCidrs() == null ? List.of() : object.getSpec().getCidrs();
        if (entries.isEmpty()) {
            return new Result(List.of(), List.of(ObjectProblem.skip("no-cidrs", "spec.cidrs is empty")));
        }
        List<Cidr> cidrs = new ArrayList<>();
        List<ObjectProblem> problems = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            String entry = entries.get(i);
            String field = "spec.cidrs[" + i + "] " + quote(entry);
            if (isCidr(entry)) {
                Cidr cidr = Cidr.parse(entry);
                // Host bits set: the API server refuses it as ambiguous (a block or one address?); so does this. The
                // same for an IPv6 block not in RFC 5952 form ("2001:DB8::/64"), as the API server's IsValidCIDR.
                if (cidr.toString().equals(entry)) {
                    cidrs.add(cidr);
                } else {
                    problems.add(ObjectProblem.drop("invalid-cidr", field + " dropped: must be in canonical form (\"" + cidr + "\")"));
                }
            } else {
                problems.add(ObjectProblem.drop("invalid-cidr", field + " dropped: must be a CIDR such as 198.19.0.0/16"));
            }
        }
        return new Result(cidrs, problems);
    }
}
