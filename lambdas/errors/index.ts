export * from "./taxonomy";
export * from "./kling-error";
