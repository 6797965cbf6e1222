/**
 * The client of Kling's new (path-based) standard, Kling's API documentation "The new standard":
 * `POST /text-to-video/{model}` and `POST /image-to-video/{model}` create, `GET /tasks` queries
 * by task id or external id, `POST /tasks` pages with a cursor. It speaks the port's legacy words
 * (port.ts): it translates the legacy create body into the new one and each new task back into a
 * legacy `Task` (`succeeded` becomes `succeed`), so Submit, Poll and the diagnosis are the same
 * for both standards. Requests go through the legacy client's transport (timeouts, redaction,
 * error classification, observation). API key only: with an AccessKey/SecretKey pair it refuses
 * before sending.
 */
import { KlingError } from "../errors";
import { MODE_RESOLUTIONS, modelsWhere } from "../schemas/models";
import type { KlingClient } from "./client";
import type { KlingApi, KlingCredentials } from "./port";
import type { CreateTaskBody, Task, Video } from "./wire";
import {
  newTaskListSchema,
  newTaskPageSchema,
  newTaskSchema,
  newVideoOutputSchema,
  type NewContent,
  type NewCreateTaskBody,
  type NewTask,
  type NewTaskKind,
} from "./wire-v2";

const TASKS_PATH = "/tasks";
/** `POST /tasks` answers at most this many tasks a page. */
const MAX_PAGE_SIZE = 500;
const MAX_PAGE_NUM = 1000;

/** Legacy body fields the new standard has no place for (none of its pages documents them). */
const LEGACY_ONLY_FIELDS = ["negative_prompt", "cfg_scale", "camera_control", "shot_type", "multi_prompt"] as const;

export class NewStandardClient implements Omit<KlingApi<NewTaskKind>, "getResourcePacks"> {
  /**
   * @param transport the legacy client, configured with the same base URL, credentials and timeout
   * @param credentials what the transport signs with: the new standard takes an API key only
   */
  constructor(
    private readonly transport: KlingClient,
    private readonly credentials: KlingCredentials,
  ) {}

  async createTask(kind: NewTaskKind, body: CreateTaskBody): Promise<Task> {
    this.requireApiKey();
    const task = await this.transport.call({
      operation: "createTask",
      method: "POST",
      path: `/${kind}/${encodeURIComponent(body.model_name)}`,
      body: toNewCreateTaskBody(kind, body),
      data: newTaskSchema,
      dataName: "task",
    });
    return toLegacyTask(task);
  }

  async getTask(_kind: NewTaskKind, id: string): Promise<Task> {
    const task = await this.findBy("task_ids", id);
    if (!task) throw new KlingError("Kling.InvalidRequest", `Kling has no task ${JSON.stringify(id)} (GET ${TASKS_PATH}?task_ids= answered none)`);
    return task;
  }

  async findTaskByExternalId(_kind: NewTaskKind, externalTaskId: string): Promise<Task | undefined> {
    return this.findBy("external_task_ids", externalTaskId);
  }

  /** The new standard pages with a cursor: page `pageNum` is reached by following `pageNum - 1` cursors. */
  async listTasks(_kind: NewTaskKind, page: { pageNum: number; pageSize: number }): Promise<Task[]> {
    this.requireApiKey();
    if (!isWholeIn(page.pageNum, 1, MAX_PAGE_NUM) || !isWholeIn(page.pageSize, 1, MAX_PAGE_SIZE)) {
      throw new KlingError(
        "Kling.InvalidRequest",
        `pageNum must be a whole number from 1 to ${MAX_PAGE_NUM} and pageSize from 1 to ${MAX_PAGE_SIZE}, got ${page.pageNum} and ${page.pageSize}`,
      );
    }
    let cursor: string | undefined;
    for (let pageNum = 1; ; pageNum++) {
      const answer = await this.transport.call({
        operation: "listTasks",
        method: "POST",
        path: TASKS_PATH,
        body: { limit: page.pageSize, ...(cursor === undefined ? {} : { cursor }) },
        data: newTaskPageSchema,
        dataName: "task page",
      });
      if (pageNum === page.pageNum) return answer.result.map(toLegacyTask);
      if (!answer.has_more || answer.next_cursor === undefined) return [];
      cursor = answer.next_cursor;
    }
  }

  private async findBy(parameter: "task_ids" | "external_task_ids", id: string): Promise<Task | undefined> {
    this.requireApiKey();
    if (typeof id !== "string" || id === "" || id.includes(",")) {
      // A comma would ask for several tasks at once.
      throw new KlingError("Kling.InvalidRequest", `A Kling task id must be a non-empty string without commas, got ${JSON.stringify(id)}`);
    }
    const tasks = await this.transport.call({
      operation: "getTask",
      method: "GET",
      path: TASKS_PATH,
      query: { [parameter]: id },
      data: newTaskListSchema,
      dataName: "task list",
    });
    const task = tasks.find((candidate) => (parameter === "task_ids" ? candidate.id : candidate.external_id) === id);
    return task && toLegacyTask(task);
  }

  private requireApiKey(): void {
    if ("apiKey" in this.credentials) return;
    throw new KlingError(
      "Kling.AuthFailed",
      `Configuration: Kling's new API standard (models ${modelsWhere((model) => model.standard === "new").join(", ")}) accepts only an API key, ` +
        "but the Kling secret holds an AccessKey/SecretKey pair: store an apiKey in the secret, or request a legacy model (kling-v...). Nothing was sent.",
    );
  }
}

/** The new standard's create body for a legacy-shaped one (validation.ts builds the latter from the request). */
function toNewCreateTaskBody(kind: NewTaskKind, body: CreateTaskBody): NewCreateTaskBody {
  const unplaced = LEGACY_ONLY_FIELDS.filter((field) => body[field] !== undefined);
  if (unplaced.length > 0) {
    throw new KlingError("Kling.InvalidRequest", `${unplaced.join(", ")} not accepted by ${body.model_name} (Kling's new API standard has no such parameter)`);
  }
  const settings: NewCreateTaskBody["settings"] = {
    resolution: MODE_RESOLUTIONS[body.mode ?? "std"],
    duration: Number(body.duration ?? "5"),
  };
  if (kind === "text-to-video" && body.aspect_ratio !== undefined) settings.aspect_ratio = body.aspect_ratio;
  if (body.sound !== undefined) settings.audio = body.sound === "on" ? "native" : "off";
  if (body.multi_shot !== undefined) settings.multi_shot = body.multi_shot;
  const options: NewCreateTaskBody["options"] = {};
  if (body.callback_url !== undefined) options.callback_url = body.callback_url;
  if (body.external_task_id !== undefined) options.external_task_id = body.external_task_id;
  if (kind === "text-to-video") return { ...(body.prompt === undefined ? {} : { prompt: body.prompt }), settings, options };

  if (body.image === undefined) throw new KlingError("Kling.InvalidRequest", "image-to-video needs an image (the first frame)");
  const contents: NewContent[] = [];
  if (body.prompt !== undefined) contents.push({ type: "prompt", text: body.prompt });
  contents.push({ type: "first_frame", url: body.image });
  if (body.image_tail !== undefined) contents.push({ type: "last_frame", url: body.image_tail });
  return { contents, settings, options };
}

/** A new-standard status in the legacy words: `succeeded` is `succeed`. */
export function legacyStatusOf(status: NewTask["status"]): Task["task_status"] {
  return status === "succeeded" ? "succeed" : status;
}

/** A new-standard task in the port's (legacy) words. */
function toLegacyTask(task: NewTask): Task {
  const videos: Video[] = (task.outputs ?? []).flatMap((output) => {
    const video = newVideoOutputSchema.safeParse(output);
    return video.success ? [{ id: video.data.id, url: video.data.url, duration: video.data.duration, ...(video.data.watermark_url === undefined ? {} : { watermark_url: video.data.watermark_url }) }] : [];
  });
  const units = (task.billing ?? []).find((entry) => entry.charge_type === "unit")?.amount;
  return {
    task_id: task.id,
    task_status: legacyStatusOf(task.status),
    ...(task.message === undefined ? {} : { task_status_msg: task.message }),
    task_info: task.external_id === undefined ? {} : { external_task_id: task.external_id },
    ...(videos.length === 0 ? {} : { task_result: { videos } }),
    ...(units === undefined ? {} : { final_unit_deduction: units }),
    created_at: task.create_time,
    updated_at: task.update_time,
  };
}

function isWholeIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}
