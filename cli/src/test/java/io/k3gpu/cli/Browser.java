package io.k3gpu.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.stream.Collectors;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/** Debian's chromium, headless, driven by its chromium-driver through Selenium: the dashboard as a person sees it. */
final class Browser implements AutoCloseable {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    final ChromeDriver driver;

    Browser() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(DRIVER)) {
            throw new IllegalStateException("chromium and chromium-driver are needed: apt-get install chromium "
                    + "chromium-driver (scripts/lab-packages.sh)");
        }
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        // --no-sandbox: the lab's tests run as root, where Chromium's sandbox refuses to start
        o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1600,1000", "--no-first-run", "--disable-background-networking");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        o.setCapability("goog:loggingPrefs", logs);
        // the given driver: Selenium Manager would otherwise try to download one
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, o);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
    }

    void open(String url) {
        driver.get(url);
    }

    WebDriverWait waiting(Duration d) {
        return new WebDriverWait(driver, d, Duration.ofMillis(200));
    }

    WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    String attribute(String css, String name) {
        List<WebElement> e = all(css);
        return e.isEmpty() ? null : e.get(0).getDomAttribute(name);
    }

    Object script(String js, Object... args) {
        return driver.executeScript(js, args);
    }

    void screenshot(Path file) throws java.io.IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
    }

    /** What the page's console said at level SEVERE (a Content-Security-Policy refusal is one). */
    List<String> severe() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).map(LogEntry::getMessage)
                .collect(Collectors.toList());
    }

    /** The Navigation Timing of the page open now: milliseconds from the request to the load event. */
    Map<?, ?> timing() {
        return (Map<?, ?>) script("var t = performance.getEntriesByType('navigation')[0];"
                + "return {load: t.loadEventEnd - t.startTime, dom: t.domContentLoadedEventEnd - t.startTime};");
    }

    @Override
    public void close() {
        driver.quit();
    }
}
