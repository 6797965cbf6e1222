/**
 * What a product's rules need to know of the account: its earlier videos and audios, and the
 * faces it identified. Also the simulator's convention for the media a request points to by URL.
 *
 * The simulator cannot fetch the internet, so for an input given by URL:
 * - a URL the simulator served itself (`<its base URL>/videos/<id>.mp4`, `/audios/<id>.wav|.mp3`,
 *   on 127.0.0.1 or localhost, over http or https) is that media, with its known duration: the
 *   rules on durations apply to it, and it must still be there (succeeded, within Kling's 30 days);
 * - any other URL must be https, and is taken as valid media lasting {@link ASSUMED_MEDIA_SECONDS}
 *   (where the output's length or price depends on it, e.g. motion control or lip-sync);
 * - base64 audio is read: a WAV's duration is its own, other formats last the assumed seconds.
 */
import type { ParentVideo } from "../accepted";

/** How long a medium the simulator cannot look at is taken to last. */
export const ASSUMED_MEDIA_SECONDS = 5;
/** Kling purges results after 30 days. */
export const RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

export interface KnownVideo extends ParentVideo {
  readonly seconds: number;
  /** The model and mode that made it (video extend takes only some). */
  readonly model: string;
  readonly mode: string;
}

export interface KnownAudio {
  readonly id: string;
  readonly seconds: number;
}

export interface Face {
  readonly faceId: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface FaceSession {
  readonly sessionId: string;
  readonly video: ParentVideo & { readonly seconds: number };
  readonly faces: readonly Face[];
}

/** A media URL's verdict: the simulator's own medium, one it no longer has, or one it cannot look at. */
export type ServedMedia =
  | { readonly kind: "video"; readonly video: KnownVideo }
  | { readonly kind: "audio"; readonly audio: KnownAudio }
  | { readonly kind: "gone" }
  | { readonly kind: "elsewhere" };

export interface ProductContext {
  /** A succeeded video of this account, by its id, within the 30 days; undefined otherwise. */
  videoById(id: string): KnownVideo | undefined;
  /** A succeeded audio of this account (video to audio), by its id, within the 30 days. */
  audioById(id: string): KnownAudio | undefined;
  servedMedia(url: string): ServedMedia;
  faceSession(sessionId: string): FaceSession | undefined;
}
