package ai.lethe.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.UploadedFile;

/**
 * The HTTP routes. They are one table ({@link #routes()}), which the server registers and a test holds against
 * openapi.json, so the document and the server cannot drift apart unnoticed.
 */
final class Api {

    /** One endpoint; {@code open} ones need no token. */
    record Route(HandlerType method, String path, boolean open, Handler handler) {
    }

    /** The body of {@code POST /models} with a JSON content type: register a file under the allowed root. */
    record ModelPathRequest(String path, String name, String format, String baseModel) {
    }

    private static final int DEFAULT_LIST_LIMIT = 100;
    private static final int MAX_LIST_LIMIT = 1000;
    /** Room for the multipart framing and form fields around an upload of the maximum size. */
    static final long MULTIPART_OVERHEAD_BYTES = 1 << 20;

    private final ServerConfig config;
    private final JobStore store;
    private final DataDirectory dir;
    private final ModelRegistry models;
    private final JobRunner runner;
    private final PathGuard guard;
    private final BearerAuth auth;
    private final String backend;
    private final byte[] openApi;
    private final List<Route> routes;

    Api(ServerConfig config, JobStore store, DataDirectory dir, ModelRegistry models, JobRunner runner, PathGuard guard,
        String backend) throws IOException {
        this.config = config;
        this.store = store;
        this.dir = dir;
        this.models = models;
        this.runner = runner;
        this.guard = guard;
        this.backend = backend;
        try (InputStream in = Api.class.getResourceAsStream("openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi.json is missing from the server's resources");
            }
            com.fasterxml.jackson.databind.node.ObjectNode doc =
                    (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(in.readAllBytes());
            ForgetJobSchema.install(doc); // the request schema of POST /jobs comes from the method registry
            this.openApi = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(doc);
        }
        this.routes = List.of(
                new Route(HandlerType.GET, "/health", true, this::health),
                new Route(HandlerType.GET, "/openapi.json", true, ctx -> ctx.contentType("application/json").result(openApi)),
                new Route(HandlerType.GET, "/models", false, this::listModels),
                new Route(HandlerType.POST, "/models", false, this::registerModel),
                new Route(HandlerType.GET, "/models/{id}", false, this::getModel),
                new Route(HandlerType.POST, "/models/{id}/importances", false, this::submitImportance),
                new Route(HandlerType.GET, "/importances", false, this::listImportances),
                new Route(HandlerType.GET, "/importances/{id}", false, this::getImportance),
                new Route(HandlerType.POST, "/jobs", false, this::submitForget),
                new Route(HandlerType.GET, "/jobs", false, this::listJobs),
                new Route(HandlerType.GET, "/jobs/{id}", false, this::getJob),
                new Route(HandlerType.POST, "/jobs/{id}/cancel", false, this::cancelJob),
                new Route(HandlerType.GET, "/jobs/{id}/report", false, this::getReport),
                new Route(HandlerType.GET, "/jobs/{id}/model", false, this::downloadModel));
        this.auth = new BearerAuth(config.token(), routes.stream().filter(Route::open).map(Route::path).collect(Collectors.toSet()),
                config.bind());
    }

    List<Route> routes() {
        return routes;
    }

    void install(JavalinConfig cfg) {
        cfg.routes.before(auth::check);
        for (Route r : routes) {
            cfg.routes.addHttpHandler(r.method(), r.path(), r.handler());
        }
    }

    // ---- health ---------------------------------------------------------------------------------

    private void health(Context ctx) {
        JobStore.Counts c = store.counts();
        String version = Api.class.getPackage().getImplementationVersion();
        ctx.json(new Views.HealthView("ok", version == null ? "development build" : version, backend, runner.workers(),
                c.queued(), c.running(), config.queueLimit(), auth.required()));
    }

    // ---- models ---------------------------------------------------------------------------------

    private void listModels(Context ctx) {
        allowQuery(ctx);
        ctx.json(new Views.ModelList(store.models().stream().map(Views::model).toList()));
    }

    private void getModel(Context ctx) {
        ctx.json(Views.model(model(ctx.pathParam("id"))));
    }

    /**
     * Three ways in: a JSON body names a file under the allowed root; a multipart body carries the file in part
     * "file" (fields name, format, base_model beside it); any other body is the file itself (query parameters
     * name, format, base_model).
     */
    private void registerModel(Context ctx) throws IOException {
        String type = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
        long limit = config.maxUploadBytes();
        StoredModel m;
        if (type.startsWith("application/json")) {
            allowQuery(ctx);
            ModelPathRequest req = readJson(ctx, ModelPathRequest.class);
            if (req.path() == null) {
                throw ApiException.badRequest("'path' is required: a model file under the allowed root");
            }
            Path real = guard.file(req.path());
            Path candidate = Uploads.copy(real, dir.tmp(), limit);
            m = models.register(candidate, new ModelRegistry.Registration(req.name(), req.format(), req.baseModel()),
                    "path:" + real, real.getFileName().toString());
        } else if (ctx.isMultipartFormData()) {
            allowQuery(ctx);
            requireDeclaredSize(ctx, MULTIPART_OVERHEAD_BYTES);
            UploadedFile file = ctx.uploadedFile("file");
            if (file == null) {
                throw ApiException.badRequest("the multipart body has no part named 'file'");
            }
            for (String field : ctx.formParamMap().keySet()) {
                if (!Set.of("file", "name", "format", "base_model").contains(field)) {
                    throw ApiException.badRequest("unknown form field '" + field + "' (known: file, name, format, base_model)");
                }
            }
            Path candidate;
            try (InputStream in = file.content()) {
                candidate = Uploads.receive(in, dir.tmp(), limit);
            }
            m = models.register(candidate, new ModelRegistry.Registration(ctx.formParam("name"), ctx.formParam("format"),
                    ctx.formParam("base_model")), "upload", file.filename() == null ? "upload" : file.filename());
        } else if (type.startsWith("application/octet-stream")) {
            allowQuery(ctx, "name", "format", "base_model");
            requireDeclaredSize(ctx, 0);
            Path candidate = Uploads.receive(ctx.req().getInputStream(), dir.tmp(), limit);
            m = models.register(candidate, new ModelRegistry.Registration(ctx.queryParam("name"), ctx.queryParam("format"),
                    ctx.queryParam("base_model")), "upload", "upload");
        } else {
            throw new ApiException(415, "send the model as application/octet-stream (the file as the body), multipart/form-data "
                    + "(part 'file') or application/json ({\"path\": ...} under the allowed root)"
                    + (type.isEmpty() ? "" : "; got '" + type + "'"));
        }
        ctx.status(201).header("Location", "/models/" + m.id()).json(Views.model(m));
    }

    /** A 413 before reading anything when the client declares a body over the limit (plus {@code overhead} for framing). */
    private void requireDeclaredSize(Context ctx, long overhead) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > config.maxUploadBytes() + overhead) {
            throw ApiException.tooLarge("the upload (" + LetheServer.mebibytes(declared) + ") is larger than the limit of "
                    + LetheServer.mebibytes(config.maxUploadBytes()));
        }
    }

    // ---- importances ----------------------------------------------------------------------------

    private void submitImportance(Context ctx) {
        StoredModel model = model(ctx.pathParam("id"));
        allowQuery(ctx);
        ImportanceSpec spec = readJson(ctx, ImportanceSpec.class).normalized(guard);
        JobStore.ImportanceSubmission s = store.submitImportance(model.id(), spec, config.queueLimit(), DataDirectory::importanceFile);
        if (s.queued()) {
            runner.wake();
        }
        ctx.status(s.queued() ? 202 : 200).header("Location", "/importances/" + s.importance().id())
                .json(Views.importance(s.importance(), s.job()));
    }

    private void listImportances(Context ctx) {
        allowQuery(ctx, "model");
        String modelId = ctx.queryParam("model");
        if (modelId != null) {
            model(modelId);
        }
        ctx.json(new Views.ImportanceList(store.importances(modelId).stream()
                .map(i -> Views.importance(i, job(i.job()))).toList()));
    }

    private void getImportance(Context ctx) {
        StoredImportance i = importance(ctx.pathParam("id"));
        ctx.json(Views.importance(i, job(i.job())));
    }

    // ---- jobs -----------------------------------------------------------------------------------

    private void submitForget(Context ctx) {
        allowQuery(ctx);
        ForgetJobSpec body = ForgetJobSpec.parse(readJson(ctx, com.fasterxml.jackson.databind.JsonNode.class));
        if (body.model() == null || body.model().isBlank()) {
            throw ApiException.badRequest("'model' is required: the id of a registered model");
        }
        StoredModel model = model(body.model());
        StoredImportance imp = null;
        if (body.importance() != null) {
            imp = importance(body.importance());
            if (!imp.model().equals(model.id())) {
                throw ApiException.badRequest("importance " + imp.id() + " belongs to model " + imp.model() + ", not " + model.id());
            }
            StoredJob computing = job(imp.job());
            if (computing.state() != JobState.SUCCEEDED) {
                throw ApiException.conflict("importance " + imp.id() + " is not ready: its job " + computing.id() + " is "
                        + computing.state().id() + (computing.error() == null ? "" : " (" + computing.error() + ")")
                        + "; submit the forget job once it has succeeded");
            }
        }
        ForgetJobSpec spec = body.normalized(guard, imp, ModelRegistry.isZoo(model));
        StoredJob job = store.submitForget(model.id(), imp == null ? null : imp.id(), spec, config.queueLimit());
        runner.wake();
        ctx.status(202).header("Location", "/jobs/" + job.id()).json(Views.job(job, null));
    }

    private void listJobs(Context ctx) {
        allowQuery(ctx, "state", "limit");
        String state = ctx.queryParam("state");
        int limit = DEFAULT_LIST_LIMIT;
        String l = ctx.queryParam("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l.strip());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("'limit' must be an integer, got '" + l + "'");
            }
            if (limit < 1 || limit > MAX_LIST_LIMIT) {
                throw ApiException.badRequest("'limit' must be between 1 and " + MAX_LIST_LIMIT + ", got " + limit);
            }
        }
        List<StoredJob> jobs = store.jobs(state == null ? null : JobState.parse(state.strip()), limit);
        ctx.json(new Views.JobList(jobs.stream().map(j -> Views.job(j, runner.progress(j.id()).orElse(null))).toList()));
    }

    private void getJob(Context ctx) {
        StoredJob j = job(ctx.pathParam("id"));
        ctx.json(Views.job(j, runner.progress(j.id()).orElse(null)));
    }

    /** A queued job is cancelled at once (200); a running one stops at its next batch (202); a finished one cannot be (409). */
    private void cancelJob(Context ctx) {
        StoredJob j = job(ctx.pathParam("id"));
        if (store.cancelQueued(j.id(), "cancelled by a client before it started")) {
            ctx.json(Views.job(job(j.id()), null));
            return;
        }
        j = job(j.id());
        if (j.state() == JobState.RUNNING && runner.orphaned(j.id())) {
            // running in the store but on no worker of this process: its worker ended without recording how
            // (the store failed at that moment); end it here rather than answer 202 forever
            store.ended(j.id(), JobState.CANCELLED, "cancelled by a client; its worker had stopped without recording an outcome");
            ctx.json(Views.job(job(j.id()), null));
            return;
        }
        if (j.state() == JobState.RUNNING) {
            runner.cancel(j.id());
            ctx.status(202).json(Views.job(j, runner.progress(j.id()).orElse(null)));
            return;
        }
        throw ApiException.conflict("job " + j.id() + (j.state() == JobState.QUEUED ? " was queued again meanwhile; try again"
                : " has already ended (" + j.state().id() + ")"));
    }

    private void getReport(Context ctx) throws IOException {
        StoredJob j = finishedForgetJob(ctx.pathParam("id"), "report");
        ctx.contentType("application/json").result(Files.readString(dir.resolve(j.reportFile()), StandardCharsets.UTF_8));
    }

    /** The forgotten model: only complete files exist under jobs/ (they are renamed into place), and only once the job succeeded. */
    private void downloadModel(Context ctx) throws IOException {
        StoredJob j = finishedForgetJob(ctx.pathParam("id"), "model");
        Path file = dir.resolve(j.resultFile());
        String name = j.id() + (file.getFileName().toString().endsWith(".safetensors") ? ".safetensors" : ".pt");
        ctx.contentType("application/octet-stream")
                .header("Content-Disposition", "attachment; filename=\"" + name + "\"")
                .header("Content-Length", Long.toString(Files.size(file)))
                .result(Files.newInputStream(file));
    }

    private StoredJob finishedForgetJob(String id, String what) {
        StoredJob j = job(id);
        if (j.kind() != JobKind.FORGET) {
            throw ApiException.notFound("job " + id + " computes an importance; it has no " + what
                    + " (see /importances/" + j.importance() + ")");
        }
        if (j.state().terminal() && j.state() != JobState.SUCCEEDED) {
            throw ApiException.conflict("job " + id + " " + j.state().id() + " (" + j.error() + "); it has no " + what);
        }
        if (j.state() != JobState.SUCCEEDED) {
            throw ApiException.conflict("job " + id + " is " + j.state().id() + "; its " + what + " is available once it has succeeded");
        }
        return j;
    }

    // ---- helpers --------------------------------------------------------------------------------

    private StoredModel model(String id) {
        return store.model(id).orElseThrow(() -> ApiException.notFound("no model '" + id + "'"));
    }

    private StoredImportance importance(String id) {
        return store.importance(id).orElseThrow(() -> ApiException.notFound("no importance '" + id + "'"));
    }

    private StoredJob job(String id) {
        return store.job(id).orElseThrow(() -> ApiException.notFound("no job '" + id + "'"));
    }

    /** Parses the body as {@code type}; a 400 that says what is wrong when it is not that JSON. */
    private static <T> T readJson(Context ctx, Class<T> type) {
        String contentType = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
        if (!contentType.startsWith("application/json")) {
            // also what keeps a web page from posting here: browsers send text/plain and forms without asking
            throw new ApiException(415, "send the body as JSON with 'Content-Type: application/json'"
                    + (contentType.isEmpty() ? "" : " (got '" + contentType + "')"));
        }
        byte[] body = ctx.bodyAsBytes();
        if (body.length == 0) {
            throw ApiException.badRequest("the request body is empty; expected a JSON object");
        }
        T value;
        try {
            value = Json.MAPPER.readValue(body, type);
        } catch (JsonProcessingException e) {
            throw ApiErrors.badJson(e);
        } catch (IOException e) {
            throw ApiException.badRequest("unreadable request body: " + e.getMessage());
        }
        if (value == null) {
            throw ApiException.badRequest("expected a JSON object, got null");
        }
        return value;
    }

    /** A 400 for query parameters this endpoint does not take (a typo must not be silently ignored). */
    private static void allowQuery(Context ctx, String... allowed) {
        Set<String> known = Set.of(allowed);
        for (String name : ctx.queryParamMap().keySet()) {
            if (!known.contains(name)) {
                throw ApiException.badRequest("unknown query parameter '" + name + "'"
                        + (allowed.length == 0 ? " (this endpoint takes none)" : " (known: " + String.join(", ", allowed) + ")"));
            }
        }
    }
}
