package io.kubeferry.proxy.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.PropertyBindingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The one Jackson binding between {@link ProxyConfig} and the KubeProxyConfiguration document, both ways. Strict, as
 * upstream decodes: an unknown field or a value of the wrong type is an error naming the field's path; a field absent
 * or null takes its default from {@link ProxyConfig#defaults()}. Written as kube-proxy writes it (keys sorted, empty
 * lists as null, whole numbers without a fraction, durations as Go prints them) so the two outputs can be diffed.
 */
final class ConfigBinding {

    static final String API_VERSION = "kubeproxy.config.k8s.io/v1alpha1";
    static final String KIND = "KubeProxyConfiguration";

    /** Fields where upstream's defaulting treats "" as unset. */
    private static final Set<String> EMPTY_MEANS_DEFAULT = Set.of("mode", "detectLocalMode");

    private static final ObjectMapper YAML = strict(YAMLMapper.builder(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)));
    private static final ObjectMapper JSON = strict(JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT));

    /** Every mode section ({@link ProxyConfig.ModeSection}) of the schema, by field name. */
    private static final Map<String, RecordComponent> SECTIONS = sections();

    private ConfigBinding() {
    }

    private static ObjectMapper strict(MapperBuilder<?, ?> builder) {
        SimpleModule goDurations = new SimpleModule("GoDuration")
                .addSerializer(Duration.class, new StdSerializer<>(Duration.class) {

                    @Override
                    public void serialize(Duration value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                        gen.writeString(GoDuration.format(value));
                    }
                })
                .addDeserializer(Duration.class, new StdDeserializer<>(Duration.class) {

                    @Override
                    public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                        if (!p.hasToken(JsonToken.VALUE_STRING)) {
                            throw new IllegalArgumentException("must be a duration such as 30s or 1m0s, got " + p.getText());
                        }
                        return GoDuration.parse(p.getText());
                    }
                });
        ObjectMapper mapper = builder.addModule(goDurations)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_IGNORED_PROPERTIES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        // A number or boolean where a string belongs is an error too, as in upstream's strict decoding.
        mapper.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        return mapper;
    }

    static JsonNode readYaml(String yaml) throws ConfigException {
        try {
            return YAML.readTree(yaml);
        } catch (IOException e) {
            throw new ConfigException("config is not valid YAML: " + e.getMessage());
        }
    }

    /** The document's fields, once its kind and apiVersion are checked (and dropped). */
    static ObjectNode fields(JsonNode root) throws ConfigException {
        if (root == null || !root.isObject()) {
            throw new ConfigException("config must be a KubeProxyConfiguration object");
        }
        ObjectNode fields = ((ObjectNode) root).deepCopy();
        String kind = fields.path("kind").asText("");
        if (!kind.equals(KIND)) {
            throw new ConfigException("kind: expected " + KIND + ", got \"" + kind + "\"");
        }
        String apiVersion = fields.path("apiVersion").asText("");
        if (!apiVersion.equals(API_VERSION)) {
            throw new ConfigException("apiVersion: expected " + API_VERSION + ", got \"" + apiVersion + "\"");
        }
        fields.remove(List.of("apiVersion", "kind"));
        return fields;
    }

    /** Binds document fields over the defaults. Not validated. */
    static ProxyConfig bind(ObjectNode fields) throws ConfigException {
        ObjectNode merged = Defaults.TREE.deepCopy();
        merge(merged, unset(fields, ""));
        try {
            return YAML.treeToValue(merged, ProxyConfig.class);
        } catch (JsonProcessingException e) {
            throw error(e, merged);
        }
    }

    /** Sets fields by dotted path through the binding; kube-ferry's own settings are kept. */
    static ProxyConfig with(ProxyConfig config, Map<String, ?> valuesByPath) throws ConfigException {
        ObjectNode tree = YAML.valueToTree(config);
        for (Map.Entry<String, ?> e : valuesByPath.entrySet()) {
            String[] parts = e.getKey().split("\\.");
            ObjectNode parent = tree;
            for (int i = 0; i < parts.length - 1; i++) {
                if (!(parent.get(parts[i]) instanceof ObjectNode child)) {
                    throw new ConfigException("unknown field \"" + e.getKey() + "\"");
                }
                parent = child;
            }
            parent.set(parts[parts.length - 1], YAML.valueToTree(e.getValue()));
        }
        return bind(tree).withOwn(config.own());
    }

    /** The document as a tree, laid out as upstream writes it. */
    static ObjectNode tree(ProxyConfig config) {
        ObjectNode tree = YAML.valueToTree(config);
        tree.put("apiVersion", API_VERSION);
        tree.put("kind", KIND);
        return (ObjectNode) upstreamLayout(tree);
    }

    static String yaml(ProxyConfig config) {
        return write(YAML, tree(config));
    }

    static String json(ObjectNode node) {
        return write(JSON, node) + "\n";
    }

    private static String write(ObjectMapper mapper, JsonNode node) {
        try {
            return mapper.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the configuration", e);
        }
    }

    /** The sections that hold an applied mode's settings ({@code iptables}, {@code ipvs}). */
    static Set<String> modeSections() {
        Set<String> names = new TreeSet<>();
        SECTIONS.forEach((name, component) -> {
            if (!component.isAnnotationPresent(NotApplied.class)) {
                names.add(name);
            }
        });
        return names;
    }

    /** The section a mode reads: the one named as the mode, as upstream names them. */
    static ProxyConfig.ModeSection modeSection(ProxyConfig config, String mode) {
        RecordComponent section = SECTIONS.get(mode);
        if (section == null) {
            throw new IllegalStateException(
                    "KubeProxyConfiguration has no section for mode \"" + mode + "\"; sections: " + SECTIONS.keySet());
        }
        return (ProxyConfig.ModeSection) value(section, config);
    }

    /** Fields marked {@link NotApplied} that differ from the default: path to the value's text. */
    static Map<String, String> unused(ProxyConfig config) {
        Map<String, String> out = new TreeMap<>();
        unused(ProxyConfig.class, YAML.valueToTree(config), Defaults.TREE, "", out);
        return java.util.Collections.unmodifiableMap(out);
    }

    private static void unused(Class<?> type, JsonNode node, JsonNode defaults, String prefix, Map<String, String> out) {
        for (RecordComponent component : type.getRecordComponents()) {
            String path = prefix + component.getName();
            JsonNode value = node == null ? null : node.get(component.getName());
            JsonNode fallback = defaults == null ? null : defaults.get(component.getName());
            if (component.isAnnotationPresent(NotApplied.class)) {
                differingLeaves(value, fallback, path, out);
            } else if (component.getType().isRecord() && (value != null || fallback != null)) {
                unused(component.getType(), value, fallback, path + ".", out);
            }
        }
    }

    private static void differingLeaves(JsonNode value, JsonNode fallback, String path, Map<String, String> out) {
        if (value != null && value.isObject()) {
            Set<String> names = new TreeSet<>();
            value.fieldNames().forEachRemaining(names::add);
            if (fallback != null) {
                fallback.fieldNames().forEachRemaining(names::add);
            }
            for (String name : names) {
                differingLeaves(value.get(name), fallback == null ? null : fallback.get(name), path + "." + name, out);
            }
        } else if (value != null && !value.equals(fallback)) {
            out.put(path, value.isValueNode() ? value.asText() : value.toString());
        }
    }

    /** Drops what counts as not given: nulls, and "" where upstream defaults an empty value. */
    private static ObjectNode unset(ObjectNode node, String prefix) throws ConfigException {
        List<String> drop = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            JsonNode value = e.getValue();
            String path = prefix + e.getKey();
            if (value.isNull() || (prefix.isEmpty() && EMPTY_MEANS_DEFAULT.contains(e.getKey()) && value.asText().isEmpty()
                    && value.isTextual())) {
                drop.add(e.getKey());
            } else if (value.isObject()) {
                unset((ObjectNode) value, path + ".");
            } else if (value.isArray()) {
                for (JsonNode item : value) {
                    if (item.isNull()) {
                        throw new ConfigException(path + ": a list item is null");
                    }
                }
            }
        }
        node.remove(drop);
        return node;
    }

    /** Objects merge field by field; anything else replaces. */
    private static void merge(ObjectNode target, ObjectNode source) {
        for (Map.Entry<String, JsonNode> e : source.properties()) {
            if (target.get(e.getKey()) instanceof ObjectNode into && e.getValue() instanceof ObjectNode from) {
                merge(into, from);
            } else {
                target.set(e.getKey(), e.getValue());
            }
        }
    }

    /** Keys sorted, empty lists as null (Go's nil slices), whole numbers without a fraction (Go's float32 5). */
    private static JsonNode upstreamLayout(JsonNode node) {
        if (node.isObject()) {
            Map<String, JsonNode> sorted = new TreeMap<>();
            node.properties().forEach(e -> sorted.put(e.getKey(), e.getValue()));
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            sorted.forEach((k, v) -> out.set(k, upstreamLayout(v)));
            return out;
        }
        if (node.isArray() && node.isEmpty()) {
            return JsonNodeFactory.instance.nullNode();
        }
        if (node.isFloatingPointNumber() && node.doubleValue() == Math.rint(node.doubleValue())) {
            return JsonNodeFactory.instance.numberNode(node.longValue());
        }
        return node;
    }

    /** Jackson's error as the field's path and what the field takes. */
    private static ConfigException error(JsonProcessingException e, JsonNode tree) {
        StringBuilder path = new StringBuilder();
        StringBuilder pointer = new StringBuilder();
        if (e instanceof JsonMappingException m) {
            for (JsonMappingException.Reference ref : m.getPath()) {
                if (ref.getFieldName() != null) {
                    path.append(path.isEmpty() ? "" : ".").append(ref.getFieldName());
                    pointer.append('/').append(ref.getFieldName());
                } else if (ref.getIndex() >= 0) {
                    path.append('[').append(ref.getIndex()).append(']');
                    pointer.append('/').append(ref.getIndex());
                }
            }
        }
        if (e instanceof PropertyBindingException) {
            return new ConfigException("unknown field \"" + path + "\"");
        }
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        if (cause instanceof IllegalArgumentException || cause instanceof NullPointerException) {
            return new ConfigException(path + ": " + cause.getMessage());
        }
        String got = tree.at(pointer.toString()).toString();
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            Class<?> type = m.getTargetType();
            String takes = type == boolean.class || type == Boolean.class
                    ? "true or false"
                    : type == int.class || type == Integer.class
                            ? "an integer"
                            : type == float.class || type == double.class
                                    ? "a number"
                                    : type == String.class
                                            ? "a string"
                                            : Collection.class.isAssignableFrom(type)
                                                    ? "a list"
                                                    : Map.class.isAssignableFrom(type)
                                                            ? "a map"
                                                            : type.isRecord() ? "an object" : type.getSimpleName();
            return new ConfigException(path + ": must be " + takes + ", got " + got);
        }
        return new ConfigException(path + ": " + e.getOriginalMessage());
    }

    private static Map<String, RecordComponent> sections() {
        Map<String, RecordComponent> sections = new LinkedHashMap<>();
        for (RecordComponent component : ProxyConfig.class.getRecordComponents()) {
            if (ProxyConfig.ModeSection.class.isAssignableFrom(component.getType())) {
                sections.put(component.getName(), component);
            }
        }
        return sections;
    }

    private static Object value(RecordComponent component, Object record) {
        try {
            return component.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The defaults as a tree, built on first use (after ProxyConfig's own initialisation). */
    private static final class Defaults {

        static final ObjectNode TREE = YAML.valueToTree(ProxyConfig.defaults());
    }
}
