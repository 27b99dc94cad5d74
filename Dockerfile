# syntax=docker/dockerfile:1
# Build a static binary, then run it as a non-root user in a minimal image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/admincenter ./cmd/admincenter \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/admincenter /admincenter
COPY --from=build --chown=65532:65532 /out/data /data
ENV ADMINCENTER_ADDR=:8080 \
    DATABASE_URL=sqlite:///data/admincenter.db
USER 65532:65532
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["/admincenter", "healthcheck"]
ENTRYPOINT ["/admincenter"]
CMD ["serve"]
