export const hello = "client";
